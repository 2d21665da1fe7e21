#ifndef EMTS_CBLKID_SHIM_H
#define EMTS_CBLKID_SHIM_H
#include <blkid.h>

/* The BLKID_* flag macros are shift expressions; re-export the combinations DiskKit uses as constants. */
static const int emts_blkid_superblock_flags = BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE
    | BLKID_SUBLKS_SECTYPE | BLKID_SUBLKS_USAGE | BLKID_SUBLKS_VERSION;
static const int emts_blkid_partition_flags = BLKID_PARTS_ENTRY_DETAILS;
#endif
