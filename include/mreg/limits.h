/**
 * @file mreg/limits.h
 * @brief What one version may hold: one set of limits for every way in.
 *
 * A version is written three ways: as its record in the store, as the
 * manifest and config of a bundle (`mreg package`), and as the manifest and
 * config pushed to an OCI registry (`mreg push`). Registries refuse a
 * manifest over 4 MiB (the distribution registry's maxManifestBodySize,
 * and containers/image reads no more), and the manifest lists every file of
 * the version and holds its whole record. So the limits are checked where a
 * version comes in, before anything is written: `mreg create` (and
 * mreg_model_create()), `mreg update` (mreg_model_update()), `mreg import`
 * and `mreg pull`; a version that passes always packages, verifies, imports
 * and pushes. Each field has its own limit (the message names the field and
 * the limit), and the version as a whole must fit MREG_MANIFEST_MAX once
 * written as a manifest: that decides how many files a version may have
 * (about 8,000 with short paths; fewer with long ones).
 *
 * Sizes are in bytes of UTF-8.
 */
#ifndef MREG_LIMITS_H
#define MREG_LIMITS_H

/** A version's description. */
#define MREG_DESCRIPTION_MAX (64u << 10)

/** A version's stage ("Staging", "Production", ...). */
#define MREG_STAGE_MAX 256u

/** Tags of a version, and properties of a version (each). */
#define MREG_KV_COUNT_MAX 1000u

/** A tag's or a property's key. */
#define MREG_KV_KEY_MAX 256u

/** A tag's or a property's value. */
#define MREG_KV_VALUE_MAX (16u << 10)

/** The metadata a model type records (e.g. an MLflow signature), as compact JSON. */
#define MREG_METADATA_MAX (1u << 20)

/** A path inside a model (a file, an empty folder, a link), and one of its components. */
#define MREG_PATH_MAX 4096u
#define MREG_PATH_COMPONENT_MAX 255u

/** Files, empty folders and links of a version, together (the manifest's size limits it further). */
#define MREG_ENTRIES_MAX 100000u

/**
 * The manifest and the config of a version, as a bundle and a registry hold
 * them: the 4 MiB registries accept.
 */
#define MREG_MANIFEST_MAX (4u << 20)

#endif
