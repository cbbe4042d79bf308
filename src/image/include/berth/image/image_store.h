// The image store: what the engine and the command line use. It ties the
// content store (blobs), the image index (names, in berth.db) and the
// snapshots (unpacked layers) together under one root, and keeps them
// consistent: an image is indexed only once its blobs are stored, and
// garbage collection frees only what no image reaches.
#pragma once

#include "berth/image/content_store.h"
#include "berth/image/database.h"
#include "berth/image/snapshots.h"
#include "berth/oci/image_spec.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace berth::image {

class ImageIndex;
struct ImageRecord;

// $BERTH_ROOT, else /var/lib/berth; rootless, $XDG_DATA_HOME/berth
// (~/.local/share/berth).
std::string default_root();

struct StoreOptions {
    std::string root;
    // Layers unpacked at once; 0 picks one per CPU (at most 8).
    unsigned unpack_threads = 0;
    ApplyOptions apply;
    // Write each unpacked layer to disk (one syncfs) before it becomes
    // visible, so that a crash cannot leave a snapshot that looks whole
    // with files missing their data. Off, as with Docker and podman: an
    // unpacked layer can be made again from its blob.
    bool durable_snapshots = false;
    // The images containers use (image ID → the name of one such container),
    // asked by whatever may free an image: such an image loses its names
    // only with `force`, and stays stored (nameless) while a container has it.
    std::function<std::map<oci::Digest, std::string>()> images_in_use;
    // berth.db as the caller has it open already (same process and thread,
    // outliving the store); none: the store opens its own connection.
    Database* database = nullptr;
};

struct Image {
    oci::Digest manifest_digest;
    oci::Digest id; // the config's digest, as Docker shows it
    oci::Manifest manifest;
    oci::ImageConfig config;
    std::string config_json;
    std::vector<std::string> names; // "docker.io/library/busybox:latest"
    std::int64_t size = 0;
    std::int64_t added = 0;

    // One per layer, bottom first: the snapshots the image needs.
    std::vector<oci::Digest> chain_ids() const { return oci::chain_ids(config.diff_ids); }
};

struct GcResult {
    std::size_t blobs_removed = 0;
    std::size_t snapshots_removed = 0;
    std::uint64_t bytes_freed = 0;
};

struct RemoveResult {
    std::vector<std::string> untagged; // names removed
    std::vector<oci::Digest> deleted;  // image IDs removed
};

class ImageStore {
  public:
    explicit ImageStore(StoreOptions options);
    ~ImageStore();
    ImageStore(const ImageStore&) = delete;
    ImageStore& operator=(const ImageStore&) = delete;

    const std::string& root() const { return options_.root; }
    ContentStore& blobs() { return blobs_; }
    SnapshotStore& snapshots() { return snapshots_; }
    Database& database() { return *database_; }
    const ApplyOptions& apply_options() const { return options_.apply; }

    // By name ("busybox", "busybox:1.36", "docker.io/library/busybox:latest"),
    // name@digest, ID or manifest digest, or a unique prefix of either.
    // Error "no such image: X" when nothing matches.
    Image resolve(std::string_view reference);
    std::optional<Image> find(std::string_view reference);
    std::vector<Image> list();

    // Indexes the image whose manifest, config and layers are already in the
    // content store (checking that they are), gives it `names` (moved from
    // any other image), and unpacks its layers.
    Image add(const oci::Digest& manifest_digest, const std::vector<std::string>& names);
    // Stores a manifest for `config_json` and `layers` (already stored) and adds it.
    Image add_from_parts(const std::string& config_json, const std::vector<oci::Descriptor>& layers,
                         const std::vector<std::string>& names);

    void tag(std::string_view source, std::string_view target);
    // `docker rmi`: removes a name, and the image once it has none left (or
    // at once with `force`). Freed blobs and snapshots are collected. An
    // image a container uses keeps its last name unless `force`, and is
    // never deleted.
    RemoveResult remove(std::string_view reference, bool force);
    // `docker image prune`: images without names, or with `all` every image;
    // never one a container uses.
    RemoveResult prune(bool all);
    // Frees every blob and snapshot that no indexed image reaches, nor
    // `extra_snapshots` (snapshots containers hold).
    GcResult collect_garbage(const std::set<oci::Digest>& extra_snapshots = {});

    // Makes every layer's snapshot exist (unpacking missing ones in
    // parallel, biggest first); returns their file directories, bottom
    // layer first.
    std::vector<std::string> unpack(const Image& image);

    // Unpacks the stored blob `layer` as the bottom layer of an image yet
    // to be made, and returns its diffID, found while unpacking: an import
    // reads its layer once, where computing the diffID first would read it
    // twice.
    oci::Digest unpack_bottom_layer(const oci::Descriptor& layer);

  private:
    Image load(const ImageRecord& record);
    std::map<oci::Digest, std::string> images_in_use();
    std::string normalize_name(std::string_view name);
    void lock(int operation);

    StoreOptions options_;
    ContentStore blobs_;
    SnapshotStore snapshots_;
    std::unique_ptr<Database> own_database_;
    Database* database_ = nullptr; // own_database_'s, or the caller's
    std::unique_ptr<ImageIndex> index_;
    int lock_fd_ = -1;
};

} // namespace berth::image
