// A layer blob to a directory: its bytes flow from the file through the
// blob's digest, the decompressor and the diffID digest into apply_layer,
// and both digests must match at the end, or the unpack fails.
#pragma once

#include "berth/image/layer_apply.h"
#include "berth/oci/image_spec.h"

namespace berth::image {

struct LayerUnpackResult {
    ApplyStats stats;
    std::uint64_t compressed_bytes = 0;
    std::uint64_t uncompressed_bytes = 0;
};

LayerUnpackResult unpack_layer(int blob_fd, const oci::Descriptor& layer,
                               const oci::Digest& diff_id, int target_dir_fd,
                               const ApplyOptions& options);

// The diffID (digest of the uncompressed tar) of a blob, for images whose
// config must be written (import) or checked (docker-archive).
oci::Digest compute_diff_id(int blob_fd, oci::Compression compression);

} // namespace berth::image
