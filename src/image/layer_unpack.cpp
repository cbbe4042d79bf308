#include "berth/image/layer_unpack.h"

#include "berth/base/error.h"
#include "berth/image/decompress.h"
#include "berth/image/read_ahead.h"

#include <fcntl.h>
#include <unistd.h>

namespace berth::image {

namespace {

// Reads of a blob file: big, so that the read-ahead thread makes few calls.
class BlobSource : public ByteSource {
  public:
    explicit BlobSource(int fd) : file_(fd, "the layer blob") {
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    std::size_t read(void* buffer, std::size_t size) override { return file_.read(buffer, size); }

  private:
    FdSource file_;
};

} // namespace

LayerUnpackResult unpack_layer(int blob_fd, const oci::Descriptor& layer,
                               const std::optional<oci::Digest>& diff_id, int target_dir_fd,
                               const ApplyOptions& options) {
    if (::lseek(blob_fd, 0, SEEK_SET) < 0)
        throw_errno("unpacking layer " + layer.digest.str() + ": rewinding the blob");
    BlobSource file(blob_fd);
    return unpack_layer(file, layer, diff_id, target_dir_fd, options);
}

LayerUnpackResult unpack_layer(ByteSource& file, const oci::Descriptor& layer,
                               const std::optional<oci::Digest>& diff_id, int target_dir_fd,
                               const ApplyOptions& options) {
    return with_context("unpacking layer " + layer.digest.str(), [&] {
        oci::Compression compression = oci::layer_compression(layer.media_type);
        // Reading, both digests and decompression run on the read-ahead
        // thread; this one only parses the tar and writes files. An
        // uncompressed blob is its own diff: one digest serves for both.
        DigestingSource compressed(file);
        auto decompressed = decompressing(compressed, compression);
        std::unique_ptr<DigestingSource> uncompressed;
        ByteSource* tar_stream = decompressed.get();
        if (compression != oci::Compression::none) {
            uncompressed = std::make_unique<DigestingSource>(*decompressed);
            tar_stream = uncompressed.get();
        }
        LayerUnpackResult result;
        {
            ReadAheadSource ahead(*tar_stream);
            TarReader archive(ahead);
            result.stats = apply_layer(archive, target_dir_fd, options);
            // Whatever follows the tar's end blocks still counts for both
            // digests; once drained, the thread no longer touches the chain.
            drain(ahead);
        }
        result.compressed_bytes = compressed.bytes();
        result.uncompressed_bytes = uncompressed ? uncompressed->bytes() : compressed.bytes();
        oci::Digest blob_digest = compressed.finish();
        if (blob_digest != layer.digest)
            fail("blob digest mismatch: expected " + layer.digest.str() + ", got " +
                 blob_digest.str());
        result.diff_id = uncompressed ? uncompressed->finish() : blob_digest;
        if (diff_id && result.diff_id != *diff_id)
            fail("diffID mismatch: the image config says " + diff_id->str() +
                 ", the layer's content is " + result.diff_id.str());
        return result;
    });
}

} // namespace berth::image
