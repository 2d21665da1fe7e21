#ifndef EMTS_CZLIB_SHIM_H
#define EMTS_CZLIB_SHIM_H
#include <zlib.h>

/* inflateInit2 and deflateInit2 are macros (they pass ZLIB_VERSION and the stream size); Swift calls these. */
static inline int emts_inflate_init_gzip(z_streamp stream) { return inflateInit2(stream, 15 + 16); }
static inline int emts_inflate_init_raw(z_streamp stream) { return inflateInit2(stream, -15); }
static inline int emts_deflate_init_raw(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}
#endif
