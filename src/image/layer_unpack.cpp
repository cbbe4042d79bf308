#include "berth/image/layer_unpack.h"

#include "berth/base/error.h"
#include "berth/image/decompress.h"

#include <unistd.h>

namespace berth::image {

LayerUnpackResult unpack_layer(int blob_fd, const oci::Descriptor& layer,
                               const oci::Digest& diff_id, int target_dir_fd,
                               const ApplyOptions& options) {
    return with_context("unpacking layer " + layer.digest.str(), [&] {
        if (::lseek(blob_fd, 0, SEEK_SET) < 0) throw_errno("rewinding the blob");
        FdSource file(blob_fd, "the layer blob");
        DigestingSource compressed(file);
        auto decompressed = decompressing(compressed, oci::layer_compression(layer.media_type));
        DigestingSource uncompressed(*decompressed);
        TarReader archive(uncompressed);

        LayerUnpackResult result;
        result.stats = apply_layer(archive, target_dir_fd, options);
        // Whatever follows the tar's end blocks still counts for both digests.
        drain(uncompressed);
        drain(compressed);
        result.compressed_bytes = compressed.bytes();
        result.uncompressed_bytes = uncompressed.bytes();
        oci::Digest blob_digest = compressed.finish();
        if (blob_digest != layer.digest)
            fail("blob digest mismatch: expected " + layer.digest.str() + ", got " +
                 blob_digest.str());
        oci::Digest actual_diff_id = uncompressed.finish();
        if (actual_diff_id != diff_id)
            fail("diffID mismatch: the image config says " + diff_id.str() +
                 ", the layer's content is " + actual_diff_id.str());
        return result;
    });
}

oci::Digest compute_diff_id(int blob_fd, oci::Compression compression) {
    if (::lseek(blob_fd, 0, SEEK_SET) < 0) throw_errno("rewinding the blob");
    FdSource file(blob_fd, "the layer blob");
    auto decompressed = decompressing(file, compression);
    DigestingSource uncompressed(*decompressed);
    drain(uncompressed);
    return uncompressed.finish();
}

} // namespace berth::image
