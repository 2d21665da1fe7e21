#ifndef EMTS_CISOFS_SHIM_H
#define EMTS_CISOFS_SHIM_H
/* libisofs.h needs <stdint.h> first and libburn.h (for struct burn_source) before it. */
#include <stdint.h>
#include <stdlib.h>
#include <libburn/libburn.h>
#include <libisofs/libisofs.h>
#include <libisoburn/libisoburn.h>
#endif
