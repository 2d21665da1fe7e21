#ifndef EMTS_CLZMA_SHIM_H
#define EMTS_CLZMA_SHIM_H
#include <stdint.h>
#include <stdlib.h>
#include <lzma.h>

/* LZMA_STREAM_INIT is a compound-literal macro Swift cannot import. */
static inline lzma_stream emts_lzma_stream_init(void) {
    lzma_stream stream = LZMA_STREAM_INIT;
    return stream;
}
#endif
