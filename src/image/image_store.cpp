#include "berth/image/image_store.h"

#include "image_index.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/layer_unpack.h"
#include "berth/oci/reference.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fcntl.h>
#include <mutex>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace berth::image {

namespace {

constexpr std::size_t max_document_size = 8 << 20;

bool is_hex(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

// The root exists before the stores inside it are made.
std::string prepared_root(const std::string& root) {
    make_directories(root, 0711);
    return root;
}

} // namespace

std::string default_root() {
    const char* from_env = std::getenv("BERTH_ROOT");
    if (from_env && *from_env) return from_env;
    if (::geteuid() == 0) return "/var/lib/berth";
    // Rootless, as podman: the user's own data directory.
    const char* data_home = std::getenv("XDG_DATA_HOME");
    if (data_home && *data_home == '/') return std::string(data_home) + "/berth";
    const char* home = std::getenv("HOME");
    if (!home || *home != '/')
        fail("rootless berth needs $HOME or $XDG_DATA_HOME (or --root) for its storage");
    return std::string(home) + "/.local/share/berth";
}

ImageStore::ImageStore(StoreOptions options)
    : options_(std::move(options)), blobs_(prepared_root(options_.root)),
      snapshots_(options_.root, options_.durable_snapshots) {
    std::string lock_path = options_.root + "/store.lock";
    lock_fd_ = open_fd(lock_path, O_RDWR | O_CREAT, 0600).release();
    // Leftovers of killed commands are removed only when no other berth
    // command is using the store; otherwise the next one will.
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) == 0) {
        blobs_.remove_stale_temporaries();
        snapshots_.remove_stale_temporaries();
    }
    lock(LOCK_SH);
    database_ = options_.database;
    if (!database_) {
        own_database_ = std::make_unique<Database>(options_.root + "/berth.db");
        database_ = own_database_.get();
    }
    index_ = std::make_unique<ImageIndex>(*database_);
}

ImageStore::~ImageStore() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

void ImageStore::lock(int operation) {
    while (::flock(lock_fd_, operation) < 0)
        if (errno != EINTR) throw_errno("locking " + options_.root + "/store.lock");
}

std::string ImageStore::normalize_name(std::string_view name) {
    oci::Reference reference = oci::parse_reference(name);
    if (reference.digest)
        fail("\"" + std::string(name) + "\" has a digest, which cannot be a name");
    return reference.tagged_name();
}

Image ImageStore::load(const ImageRecord& record) {
    return with_context("image " + record.config_digest.short_hex(), [&] {
        Image image;
        image.manifest_digest = record.manifest_digest;
        image.id = record.config_digest;
        image.names = record.names;
        image.size = record.size;
        image.added = record.added;
        image.manifest =
            oci::parse_manifest(blobs_.read(record.manifest_digest, max_document_size));
        image.config_json = blobs_.read(image.manifest.config.digest, max_document_size);
        image.config = oci::parse_image_config(image.config_json);
        return image;
    });
}

std::optional<Image> ImageStore::find(std::string_view text) {
    std::string_view bare = text;
    if (bare.rfind("sha256:", 0) == 0) bare.remove_prefix(7);
    bool hex_only = is_hex(bare);
    // A full ID is never a name; a shorter hex string may be either, and a
    // name wins, as with Docker.
    if (!(hex_only && bare.size() == 64) && text.rfind("sha256:", 0) != 0) {
        oci::Reference reference;
        bool parsed = true;
        try {
            reference = oci::parse_reference(text);
        } catch (const Error&) {
            parsed = false;
        }
        if (parsed) {
            if (reference.digest) {
                if (auto record = index_->by_manifest(*reference.digest)) return load(*record);
                if (!hex_only) return std::nullopt;
            } else if (auto record = index_->by_name(reference.tagged_name())) {
                return load(*record);
            }
        }
    }
    if (!hex_only) return std::nullopt;
    auto matches = index_->by_hex_prefix(std::string(bare));
    // Two manifests may share one config (one ID): that is still one image
    // to the user only if the prefix is not ambiguous between IDs.
    std::set<oci::Digest> ids;
    for (const auto& record : matches)
        ids.insert(record.config_digest);
    if (matches.empty()) return std::nullopt;
    if (ids.size() > 1 && matches.size() > 1)
        fail("\"" + std::string(text) + "\" matches several images; give more of the ID");
    return load(matches.front());
}

Image ImageStore::resolve(std::string_view reference) {
    if (auto image = find(reference)) return *image;
    fail("no such image: " + std::string(reference));
}

std::vector<Image> ImageStore::list() {
    std::vector<Image> images;
    for (const auto& record : index_->all())
        images.push_back(load(record));
    return images;
}

Image ImageStore::add(const oci::Digest& manifest_digest, const std::vector<std::string>& names) {
    std::vector<std::string> normalized;
    for (const auto& name : names)
        normalized.push_back(normalize_name(name));
    Image image = with_context("adding image " + manifest_digest.str(), [&] {
        Image image;
        image.manifest_digest = manifest_digest;
        image.manifest = oci::parse_manifest(blobs_.read(manifest_digest, max_document_size));
        image.id = image.manifest.config.digest;
        image.config_json = blobs_.read(image.id, max_document_size);
        image.config = oci::parse_image_config(image.config_json);
        if (image.config.diff_ids.size() != image.manifest.layers.size())
            fail("the manifest has " + std::to_string(image.manifest.layers.size()) +
                 " layers but the config lists " + std::to_string(image.config.diff_ids.size()));
        for (const auto& layer : image.manifest.layers) {
            oci::layer_compression(layer.media_type); // refuses types we cannot unpack
            if (!blobs_.has(layer.digest)) fail("layer " + layer.digest.str() + " is not stored");
        }
        // Unpacked before it is indexed: an image that cannot be unpacked
        // (corrupt or hostile layer) never appears in the store.
        unpack(image);
        return image;
    });
    ImageRecord record;
    record.manifest_digest = manifest_digest;
    record.config_digest = image.id;
    record.created = image.config.created;
    record.added = static_cast<std::int64_t>(std::time(nullptr));
    for (const auto& chain_id : image.chain_ids())
        if (auto info = snapshots_.info(chain_id))
            record.size += static_cast<std::int64_t>(info->size);
    index_->database().transaction([&] {
        index_->add(record);
        for (const auto& name : normalized)
            index_->set_name(name, manifest_digest);
    });
    return load(*index_->by_manifest(manifest_digest));
}

Image ImageStore::add_from_parts(const std::string& config_json,
                                 const std::vector<oci::Descriptor>& layers,
                                 const std::vector<std::string>& names) {
    oci::Manifest manifest;
    manifest.media_type = oci::media_type::oci_manifest;
    manifest.config.media_type = oci::media_type::oci_config;
    manifest.config.digest = blobs_.put(config_json);
    manifest.config.size = static_cast<std::int64_t>(config_json.size());
    manifest.layers = layers;
    oci::Digest manifest_digest = blobs_.put(oci::manifest_to_json(manifest));
    return add(manifest_digest, names);
}

void ImageStore::tag(std::string_view source, std::string_view target) {
    Image image = resolve(source);
    index_->set_name(normalize_name(target), image.manifest_digest);
}

RemoveResult ImageStore::remove(std::string_view reference, bool force) {
    RemoveResult result;
    Image image = resolve(reference);
    // By name: only that name goes, and the image with its last name. By ID:
    // the image goes, which with several names needs `force`.
    std::optional<std::string> by_name;
    try {
        oci::Reference parsed = oci::parse_reference(reference);
        std::string name = parsed.tagged_name();
        if (!parsed.digest &&
            std::find(image.names.begin(), image.names.end(), name) != image.names.end())
            by_name = name;
    } catch (const Error&) {
    }
    std::map<oci::Digest, std::string> in_use = images_in_use();
    auto user = in_use.find(image.id);
    index_->database().transaction([&] {
        if (by_name && !force && image.names.size() > 1) {
            index_->remove_name(*by_name);
            result.untagged.push_back(*by_name);
            return;
        }
        if (user != in_use.end() && !force)
            fail("conflict: unable to remove image " + std::string(reference) +
                 " (must force): container " + user->second + " is using it");
        if (!by_name && image.names.size() > 1 && !force)
            fail("image " + image.id.short_hex() + " has several names (" +
                 std::to_string(image.names.size()) + "): remove them one by one, or use --force");
        for (const auto& name : image.names) {
            index_->remove_name(name);
            result.untagged.push_back(name);
        }
        // Docker's way: a container's image only loses its names.
        if (user != in_use.end()) return;
        index_->remove_image(image.manifest_digest);
        result.deleted.push_back(image.id);
    });
    if (!result.deleted.empty()) collect_garbage();
    return result;
}

RemoveResult ImageStore::prune(bool all) {
    RemoveResult result;
    std::map<oci::Digest, std::string> in_use = images_in_use();
    for (const Image& image : list()) {
        if (!image.names.empty() && !all) continue;
        if (in_use.count(image.id)) continue;
        index_->database().transaction([&] {
            for (const auto& name : image.names) {
                index_->remove_name(name);
                result.untagged.push_back(name);
            }
            index_->remove_image(image.manifest_digest);
        });
        result.deleted.push_back(image.id);
    }
    collect_garbage();
    return result;
}

std::map<oci::Digest, std::string> ImageStore::images_in_use() {
    return options_.images_in_use ? options_.images_in_use() : std::map<oci::Digest, std::string>{};
}

std::vector<std::string> ImageStore::unpack(const Image& image) {
    std::vector<oci::Digest> chain = image.chain_ids();
    std::vector<std::string> paths;
    std::vector<std::size_t> missing;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        paths.push_back(snapshots_.files_path(chain[i]));
        if (!snapshots_.has(chain[i])) missing.push_back(i);
    }
    if (missing.empty()) return paths;
    // Biggest first: with fewer threads than layers, the last layer to start
    // is then a small one, and no core is left alone with a big one at the end.
    std::stable_sort(missing.begin(), missing.end(), [&](std::size_t a, std::size_t b) {
        return image.manifest.layers[a].size > image.manifest.layers[b].size;
    });

    unsigned threads = options_.unpack_threads;
    if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    threads = std::min<unsigned>(threads, static_cast<unsigned>(missing.size()));

    std::atomic<std::size_t> next{0};
    std::mutex failure_lock;
    std::exception_ptr failure;
    auto worker = [&] {
        for (;;) {
            std::size_t job = next.fetch_add(1);
            if (job >= missing.size()) return;
            std::size_t layer = missing[job];
            try {
                snapshots_.ensure(chain[layer], image.config.diff_ids[layer], [&](int dir_fd) {
                    UniqueFd blob = blobs_.open(image.manifest.layers[layer].digest);
                    return unpack_layer(blob.get(), image.manifest.layers[layer],
                                        image.config.diff_ids[layer], dir_fd, options_.apply)
                        .stats;
                });
            } catch (...) {
                std::lock_guard guard(failure_lock);
                if (!failure) failure = std::current_exception();
                next = missing.size(); // stop handing out work
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i)
        pool.emplace_back(worker);
    worker();
    for (auto& thread : pool)
        thread.join();
    if (failure) std::rethrow_exception(failure);
    return paths;
}

oci::Digest ImageStore::unpack_bottom_layer(const oci::Descriptor& layer) {
    SnapshotInfo info = snapshots_.ensure_bottom_layer([&](int dir_fd) {
        UniqueFd blob = blobs_.open(layer.digest);
        LayerUnpackResult result =
            unpack_layer(blob.get(), layer, std::nullopt, dir_fd, options_.apply);
        return SnapshotStore::Unpacked{result.diff_id, result.stats};
    });
    return info.diff_id;
}

} // namespace berth::image
