#include "config.h"
#include "mreg/version.h"

const char *mreg_version_string(void)
{
	return MREG_VERSION;
}
