// Unpacked layers under <root>/snapshots, one per chain ID, shared by every
// image whose layer stack begins with that chain. Each holds only its own
// layer's files (with overlay whiteouts), so the layers of one image unpack
// independently and in parallel; overlayfs stacks them at mount time.
//
// A snapshot is unpacked into a temporary directory and renamed into place
// when complete, so a visible snapshot is always whole. When two processes
// unpack the same layer at once, the first rename wins and the other drops
// its copy. A killed unpack leaves a ".tmp-*" directory that the next
// command removes.
#pragma once

#include "berth/image/layer_apply.h"
#include "berth/oci/digest.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace berth::image {

struct SnapshotInfo {
    oci::Digest chain_id;
    oci::Digest diff_id;
    std::uint64_t size = 0; // bytes of file data
    std::uint64_t entries = 0;
};

class SnapshotStore {
  public:
    // With `durable`, a snapshot's files are on disk before it is published
    // (one syncfs of the filesystem: cheaper than an fsync per file).
    explicit SnapshotStore(const std::string& root, bool durable = false);

    // The directory holding the layer's files: an overlay lower directory.
    std::string files_path(const oci::Digest& chain_id) const;
    bool has(const oci::Digest& chain_id) const;
    std::optional<SnapshotInfo> info(const oci::Digest& chain_id) const;

    // Makes the snapshot `chain_id` exist, calling `unpack` with an fd of an
    // empty directory to fill when it does not.
    SnapshotInfo ensure(const oci::Digest& chain_id, const oci::Digest& diff_id,
                        const std::function<ApplyStats(int dir_fd)>& unpack);

    struct Unpacked {
        oci::Digest diff_id;
        ApplyStats stats;
    };
    // For a layer whose diffID is known only once it is unpacked (import):
    // the bottom layer of an image, whose chain ID is its diffID. `unpack`
    // fills an empty directory and returns the diffID of what it wrote.
    SnapshotInfo ensure_bottom_layer(const std::function<Unpacked(int dir_fd)>& unpack);

    // Makes `directory` (a layer's files already in the form a snapshot
    // holds them: an overlay upper, on the same filesystem) the snapshot
    // `chain_id` by renaming it into place, with no copy. nullopt when it
    // cannot be renamed here (another filesystem) or the snapshot exists;
    // the caller then keeps or removes `directory`.
    std::optional<SnapshotInfo> adopt(const oci::Digest& chain_id, const oci::Digest& diff_id,
                                      const std::string& directory, std::uint64_t size,
                                      std::uint64_t entries);

    std::vector<oci::Digest> list() const;
    void remove(const oci::Digest& chain_id);
    // Only while no other writer runs (the store's exclusive lock is held).
    void remove_stale_temporaries();

  private:
    // Fills a new temporary directory with `unpack` and renames it to the
    // chain ID it returns; the first of two concurrent unpacks wins.
    SnapshotInfo create(const std::function<SnapshotInfo(int dir_fd)>& unpack);

    std::string directory_;
    bool durable_;
};

} // namespace berth::image
