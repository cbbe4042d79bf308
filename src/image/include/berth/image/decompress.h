// Streaming gzip (ISA-L's igzip, several times faster than zlib) and zstd
// decompression over a ByteSource.
#pragma once

#include "berth/image/byte_stream.h"
#include "berth/oci/image_spec.h"

#include <memory>
#include <string_view>

namespace berth::image {

// The compression a stream's first bytes announce (gzip and zstd magic
// numbers); none for anything else. Error for xz and bzip2, which no image
// format allows.
oci::Compression detect_compression(std::string_view first_bytes);
// Bytes detect_compression needs to look at.
inline constexpr std::size_t compression_magic_size = 6;

// A stream of the decompressed bytes of `compressed` (which must outlive it).
// Corrupt or truncated input is an Error when it is read.
std::unique_ptr<ByteSource> decompressing(ByteSource& compressed, oci::Compression compression);

const char* compression_name(oci::Compression compression);

} // namespace berth::image
