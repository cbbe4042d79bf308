// Reference-counting garbage collection by reachability: everything an
// indexed image reaches (manifest, config, layers, its snapshots) is kept,
// everything else is freed. It runs under the store's exclusive lock, so no
// other command is half-way through storing an image it has not indexed yet.
#include "berth/image/image_store.h"

#include "image_index.h"

#include "berth/base/error.h"

#include <sys/file.h>
#include <sys/stat.h>

namespace berth::image {

namespace {

std::uint64_t tree_size(const std::string& path) {
    // du -s would walk the tree; the snapshot's own record is cheaper and
    // close enough for "freed" figures.
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

} // namespace

GcResult ImageStore::collect_garbage(const std::set<oci::Digest>& extra_snapshots) {
    lock(LOCK_EX);
    struct Downgrade {
        ImageStore* store;
        ~Downgrade() {
            try {
                store->lock(LOCK_SH);
            } catch (const Error&) {
            }
        }
    } downgrade{this};

    std::set<oci::Digest> live_blobs;
    std::set<oci::Digest> live_snapshots = extra_snapshots;
    // Any image we cannot read stops the collection: its blobs might be live.
    for (const Image& image : with_context("garbage collection", [&] { return list(); })) {
        live_blobs.insert(image.manifest_digest);
        live_blobs.insert(image.manifest.config.digest);
        for (const auto& layer : image.manifest.layers)
            live_blobs.insert(layer.digest);
        for (const auto& chain_id : image.chain_ids())
            live_snapshots.insert(chain_id);
    }

    GcResult result;
    for (const auto& digest : blobs_.list()) {
        if (live_blobs.count(digest)) continue;
        result.bytes_freed += tree_size(blobs_.path(digest));
        blobs_.remove(digest);
        ++result.blobs_removed;
    }
    for (const auto& chain_id : snapshots_.list()) {
        if (live_snapshots.count(chain_id)) continue;
        if (auto info = snapshots_.info(chain_id)) result.bytes_freed += info->size;
        snapshots_.remove(chain_id);
        ++result.snapshots_removed;
    }
    return result;
}

} // namespace berth::image
