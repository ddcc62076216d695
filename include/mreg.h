/**
 * @file mreg.h
 * @brief libmreg: a model registry with a content-addressed local store.
 *
 * Include this header to get the whole public API.
 */
#ifndef MREG_H
#define MREG_H

#include "mreg/bundle.h"
#include "mreg/diag.h"
#include "mreg/diff.h"
#include "mreg/error.h"
#include "mreg/format.h"
#include "mreg/git.h"
#include "mreg/kept_signatures.h"
#include "mreg/limits.h"
#include "mreg/oms.h"
#include "mreg/record.h"
#include "mreg/source.h"
#include "mreg/registry.h"
#include "mreg/remote.h"
#include "mreg/sign.h"
#include "mreg/store.h"
#include "mreg/version.h"

#endif
