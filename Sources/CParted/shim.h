#ifndef EMTS_CPARTED_SHIM_H
#define EMTS_CPARTED_SHIM_H
#include <parted/parted.h>
#endif
