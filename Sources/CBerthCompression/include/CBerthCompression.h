#ifndef CBERTH_COMPRESSION_H
#define CBERTH_COMPRESSION_H

// zlib and Brotli's encoder, as the system provides them (zlib1g-dev, libbrotli-dev), for
// Berth's content codings. zlib's initializers are macros, which Swift cannot call: the
// functions below stand in for them.

#include <zlib.h>
#include <brotli/encode.h>

/// deflateInit2 for the gzip format (RFC 1952): a gzip header and trailer around the deflate
/// stream, a 32 KiB window and zlib's default memory level. Returns Z_OK or a zlib error.
int cberth_deflate_init_gzip(z_stream *stream, int level);

#endif
