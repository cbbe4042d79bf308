// A layer blob to a directory: its bytes flow from the file through the
// blob's digest, the decompressor and the diffID digest into apply_layer,
// and both digests must match at the end, or the unpack fails. Reading,
// hashing and decompressing run on a thread of their own, beside the one
// that writes the files.
#pragma once

#include "berth/image/byte_stream.h"
#include "berth/image/layer_apply.h"
#include "berth/oci/image_spec.h"

#include <optional>

namespace berth::image {

struct LayerUnpackResult {
    ApplyStats stats;
    std::uint64_t compressed_bytes = 0;
    std::uint64_t uncompressed_bytes = 0;
    oci::Digest diff_id; // of the content unpacked
};

// Without `diff_id` (a layer being imported, whose config is not written
// yet) only the blob's digest is checked, and the diffID is found.
LayerUnpackResult unpack_layer(int blob_fd, const oci::Descriptor& layer,
                               const std::optional<oci::Digest>& diff_id, int target_dir_fd,
                               const ApplyOptions& options);
// The same from a stream of the blob's bytes (a download still arriving).
LayerUnpackResult unpack_layer(ByteSource& blob, const oci::Descriptor& layer,
                               const std::optional<oci::Digest>& diff_id, int target_dir_fd,
                               const ApplyOptions& options);

} // namespace berth::image
