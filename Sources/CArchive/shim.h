#ifndef EMTS_CARCHIVE_SHIM_H
#define EMTS_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#include <sys/types.h>

/* The AE_IF* mode macros are casts that Swift does not import; re-export them as constants. */
static const unsigned int EMTS_AE_IFMT = AE_IFMT;
static const unsigned int EMTS_AE_IFREG = AE_IFREG;
static const unsigned int EMTS_AE_IFLNK = AE_IFLNK;
static const unsigned int EMTS_AE_IFSOCK = AE_IFSOCK;
static const unsigned int EMTS_AE_IFCHR = AE_IFCHR;
static const unsigned int EMTS_AE_IFBLK = AE_IFBLK;
static const unsigned int EMTS_AE_IFDIR = AE_IFDIR;
static const unsigned int EMTS_AE_IFIFO = AE_IFIFO;

/* archive_set_error is variadic, which Swift cannot call; a fixed-arity wrapper for callbacks. */
static inline void emts_archive_set_error(struct archive *a, int code, const char *message) {
    archive_set_error(a, code, "%s", message);
}
#endif
