#include "berth/registry/pull.h"

#include "chunk_pipe.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/layer_unpack.h"
#include "berth/oci/platform.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace berth::registry {

namespace {

constexpr std::size_t max_document_size = 4 << 20;

// Held while one process fetches a blob, so that concurrent pulls of images
// sharing a layer fetch it once: the others wait, then find it stored.
class BlobLock {
  public:
    BlobLock(const std::string& directory, const oci::Digest& digest)
        : path_(directory + "/" + digest.hex() + ".lock"),
          fd_(open_fd(path_, O_RDWR | O_CREAT, 0600)) {
        while (::flock(fd_.get(), LOCK_EX) < 0)
            if (errno != EINTR) throw_errno("locking " + path_);
    }
    // Once the blob is stored the lock file is not needed: a process that
    // opens a fresh one finds the blob there.
    void release_stored() { ::unlink(path_.c_str()); }

  private:
    std::string path_;
    UniqueFd fd_;
};

class Pull {
  public:
    Pull(image::ImageStore& store, const oci::Reference& reference, const PullOptions& options)
        : store_(store), reference_(reference), options_(options),
          client_(reference.domain, options.client), lock_directory_(store.root() + "/pull-locks") {
        make_directories(lock_directory_, 0700);
    }

    PullResult run() {
        try {
            return run_unguarded();
        } catch (...) {
            undo();
            throw;
        }
    }

  private:
    PullResult run_unguarded() {
        std::string wanted = reference_.digest ? reference_.digest->str() : reference_.tag;
        Client::FetchedManifest top = client_.fetch_manifest(reference_.repository, wanted);
        PullResult result;
        result.digest = top.digest;
        Client::FetchedManifest chosen = top;
        if (oci::is_index_type(top.media_type)) {
            oci::Index index = with_context("the index of " + shown(),
                                            [&] { return oci::parse_index(top.content); });
            oci::Platform platform = options_.platform.value_or(oci::host_platform());
            auto descriptor = oci::choose_platform(index, platform);
            if (!descriptor)
                fail(shown() + " has no image for " + oci::platform_string(platform) + " (it has " +
                     offered_platforms(index) + ")");
            chosen = client_.fetch_manifest(reference_.repository, descriptor->digest.str());
            if (oci::is_index_type(chosen.media_type))
                fail(shown() + ": nested indexes are not supported yet");
        } else if (!oci::is_manifest_type(top.media_type)) {
            fail(shown() + " is a " + top.media_type +
                 ", which is not an image manifest berth can pull");
        }
        oci::Manifest manifest = with_context("the manifest of " + shown(),
                                              [&] { return oci::parse_manifest(chosen.content); });
        for (const auto& layer : manifest.layers)
            oci::layer_compression(layer.media_type);

        fetch_blob_once(manifest.config, {});
        std::string config_json = store_.blobs().read(manifest.config.digest, max_document_size);
        oci::ImageConfig config = with_context(
            "the config of " + shown(), [&] { return oci::parse_image_config(config_json); });
        if (config.diff_ids.size() != manifest.layers.size())
            fail(shown() + ": the manifest has " + std::to_string(manifest.layers.size()) +
                 " layers but the config lists " + std::to_string(config.diff_ids.size()));
        if (options_.platform && config.architecture != options_.platform->architecture)
            fail(shown() + " is for " + config.os + "/" + config.architecture + ", not " +
                 oci::platform_string(*options_.platform));

        fetch_layers(manifest, oci::chain_ids(config.diff_ids), config.diff_ids);
        if (!store_.blobs().has(chosen.digest)) {
            store_.blobs().put(chosen.content);
            added_blobs_.push_back(chosen.digest);
        }
        std::vector<std::string> names;
        if (!reference_.tag.empty()) names.push_back(reference_.tagged_name());
        result.image = store_.add(chosen.digest, names);
        result.downloaded = !added_blobs_.empty() || !added_snapshots_.empty();
        added_blobs_.clear();
        added_snapshots_.clear();
        return result;
    }

    std::string shown() const { return reference_.familiar_string(); }

    static std::string offered_platforms(const oci::Index& index) {
        std::string list;
        for (const auto& descriptor : index.manifests)
            if (descriptor.platform && descriptor.platform->os != "unknown")
                list += (list.empty() ? "" : ", ") + oci::platform_string(*descriptor.platform);
        return list.empty() ? "none" : list;
    }

    void emit(const LayerEvent& event) {
        if (!options_.on_layer) return;
        std::lock_guard guard(events_lock_);
        options_.on_layer(event);
    }

    // Fetches `blob` unless stored, once across concurrent pulls; its bytes
    // also go to `tee` as they arrive (not when another process fetched it).
    // Returns whether this call downloaded it.
    bool fetch_blob_once(const oci::Descriptor& blob, const Progress& progress,
                         const std::function<void(std::string_view)>& tee = {}) {
        if (store_.blobs().has(blob.digest)) return false;
        BlobLock lock(lock_directory_, blob.digest);
        if (store_.blobs().has(blob.digest)) return false;
        image::BlobWriter writer = store_.blobs().writer();
        client_.fetch_blob(
            reference_.repository, blob,
            [&](std::string_view chunk) {
                writer.write(chunk);
                if (tee) tee(chunk);
            },
            progress);
        with_context("blob " + blob.digest.str() + " from " + reference_.domain,
                     [&] { writer.commit(blob.digest, blob.size); });
        {
            std::lock_guard guard(undo_lock_);
            added_blobs_.push_back(blob.digest);
        }
        lock.release_stored();
        return true;
    }

    // Unpacks the layer into its snapshot from the stored blob.
    bool unpack_stored(const oci::Descriptor& layer, const oci::Digest& chain_id,
                       const oci::Digest& diff_id) {
        bool created = false;
        store_.snapshots().ensure(chain_id, diff_id, [&](int dir_fd) {
            created = true;
            UniqueFd blob = store_.blobs().open(layer.digest);
            return image::unpack_layer(blob.get(), layer, diff_id, dir_fd, store_.apply_options())
                .stats;
        });
        return created;
    }

    // Downloads the layer and unpacks it at the same time, from the bytes
    // as they arrive (on a thread of its own) rather than from the disk
    // afterwards. Both digests are still checked: the blob's by the
    // content store and the unpack, the diffID by the unpack.
    bool fetch_and_unpack(const oci::Descriptor& layer, const oci::Digest& chain_id,
                          const oci::Digest& diff_id, const Progress& progress) {
        ChunkPipe pipe;
        bool created = false;
        std::exception_ptr unpack_failure;
        std::thread unpacker([&] {
            try {
                store_.snapshots().ensure(chain_id, diff_id, [&](int dir_fd) {
                    created = true;
                    return image::unpack_layer(pipe, layer, diff_id, dir_fd, store_.apply_options())
                        .stats;
                });
            } catch (...) {
                unpack_failure = std::current_exception();
            }
            pipe.reader_gone();
        });
        bool downloaded = false;
        try {
            downloaded =
                fetch_blob_once(layer, progress, [&](std::string_view chunk) { pipe.push(chunk); });
            if (downloaded)
                pipe.close();
            else
                pipe.fail(std::make_exception_ptr(Error("the blob was fetched by another pull")));
        } catch (...) {
            pipe.fail(std::current_exception());
            unpacker.join();
            throw;
        }
        unpacker.join();
        if (!downloaded) return unpack_stored(layer, chain_id, diff_id);
        if (unpack_failure) std::rethrow_exception(unpack_failure);
        return created;
    }

    void fetch_layers(const oci::Manifest& manifest, const std::vector<oci::Digest>& chain,
                      const std::vector<oci::Digest>& diff_ids) {
        std::vector<std::size_t> jobs;
        for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
            const auto& layer = manifest.layers[i];
            if (store_.blobs().has(layer.digest) && store_.snapshots().has(chain[i])) {
                emit({LayerEvent::Kind::already_exists, layer.digest, 0,
                      static_cast<std::uint64_t>(layer.size)});
                continue;
            }
            emit({LayerEvent::Kind::waiting, layer.digest, 0,
                  static_cast<std::uint64_t>(layer.size)});
            jobs.push_back(i);
        }
        std::atomic<std::size_t> next{0};
        std::mutex failure_lock;
        std::exception_ptr failure;
        auto worker = [&] {
            for (;;) {
                std::size_t job = next.fetch_add(1);
                if (job >= jobs.size()) return;
                std::size_t i = jobs[job];
                const oci::Descriptor& layer = manifest.layers[i];
                auto total = static_cast<std::uint64_t>(layer.size);
                try {
                    Progress progress = [&](std::uint64_t bytes) {
                        emit({LayerEvent::Kind::downloading, layer.digest, bytes, total});
                        if (bytes == total)
                            emit({LayerEvent::Kind::download_complete, layer.digest, total, total});
                    };
                    bool created = store_.blobs().has(layer.digest)
                                       ? unpack_stored(layer, chain[i], diff_ids[i])
                                       : fetch_and_unpack(layer, chain[i], diff_ids[i], progress);
                    if (created) {
                        std::lock_guard guard(undo_lock_);
                        added_snapshots_.push_back(chain[i]);
                    }
                    emit({LayerEvent::Kind::pull_complete, layer.digest, total, total});
                } catch (...) {
                    std::lock_guard guard(failure_lock);
                    if (!failure) failure = std::current_exception();
                    next = jobs.size(); // stop handing out work
                }
            }
        };
        unsigned threads = std::clamp<unsigned>(options_.parallel, 1, 16);
        threads = std::min<unsigned>(threads, static_cast<unsigned>(jobs.size()));
        std::vector<std::thread> pool;
        for (unsigned t = 1; t < threads; ++t)
            pool.emplace_back(worker);
        if (threads > 0) worker();
        for (auto& thread : pool)
            thread.join();
        if (failure) std::rethrow_exception(failure);
    }

    // A failed pull leaves the store as it found it.
    void undo() noexcept {
        for (const auto& chain_id : added_snapshots_) {
            try {
                store_.snapshots().remove(chain_id);
            } catch (...) {
            }
        }
        for (const auto& digest : added_blobs_) {
            try {
                store_.blobs().remove(digest);
            } catch (...) {
            }
        }
    }

    image::ImageStore& store_;
    const oci::Reference& reference_;
    const PullOptions& options_;
    Client client_;
    std::string lock_directory_;
    std::mutex events_lock_;
    std::mutex undo_lock_;
    std::vector<oci::Digest> added_blobs_;
    std::vector<oci::Digest> added_snapshots_;
};

} // namespace

PullResult pull(image::ImageStore& store, const oci::Reference& reference,
                const PullOptions& options) {
    return with_context("pulling " + reference.familiar_string(),
                        [&] { return Pull(store, reference, options).run(); });
}

} // namespace berth::registry
