#include "berth/registry/push.h"

#include "berth/base/error.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace berth::registry {

namespace {

constexpr std::size_t max_document_size = 4 << 20;

// Repositories of the same registry that already hold the image (its other
// names), from which the registry can mount blobs instead of receiving them.
std::vector<std::string> mount_sources(const image::Image& image, const oci::Reference& target) {
    std::vector<std::string> sources;
    for (const auto& name : image.names) {
        try {
            oci::Reference other = oci::parse_reference(name);
            if (other.domain == target.domain && other.repository != target.repository &&
                std::find(sources.begin(), sources.end(), other.repository) == sources.end())
                sources.push_back(other.repository);
        } catch (const Error&) {
        }
    }
    return sources;
}

} // namespace

PushResult push(image::ImageStore& store, const oci::Reference& reference,
                const PushOptions& options) {
    return with_context("pushing " + reference.familiar_string(), [&] {
        if (reference.digest) fail("push by digest is not supported: name a tag");
        image::Image image = store.resolve(reference.tagged_name());
        Client client(reference.domain, options.client);
        std::vector<std::string> sources = mount_sources(image, reference);

        std::vector<oci::Descriptor> blobs = image.manifest.layers;
        blobs.push_back(image.manifest.config);
        std::mutex events_lock;
        auto emit = [&](const BlobEvent& event) {
            if (!options.on_blob) return;
            std::lock_guard guard(events_lock);
            options.on_blob(event);
        };
        auto push_blob = [&](const oci::Descriptor& blob) {
            auto total = static_cast<std::uint64_t>(blob.size);
            if (client.has_blob(reference.repository, blob.digest)) {
                emit({BlobEvent::Kind::already_exists, blob.digest, total, total, {}});
                return;
            }
            for (const auto& source : sources) {
                if (client.mount_blob(reference.repository, blob.digest, source)) {
                    emit({BlobEvent::Kind::mounted, blob.digest, total, total, source});
                    return;
                }
            }
            UniqueFd fd = store.blobs().open(blob.digest);
            std::uint64_t size = store.blobs().size(blob.digest);
            emit({BlobEvent::Kind::pushing, blob.digest, 0, size, {}});
            client.upload_blob(reference.repository, blob.digest, fd.get(), size,
                               options.chunk_size, [&](std::uint64_t bytes) {
                                   emit({BlobEvent::Kind::pushing, blob.digest, bytes, size, {}});
                               });
            emit({BlobEvent::Kind::pushed, blob.digest, size, size, {}});
        };

        std::atomic<std::size_t> next{0};
        std::mutex failure_lock;
        std::exception_ptr failure;
        auto worker = [&] {
            for (;;) {
                std::size_t job = next.fetch_add(1);
                if (job >= blobs.size()) return;
                try {
                    push_blob(blobs[job]);
                } catch (...) {
                    std::lock_guard guard(failure_lock);
                    if (!failure) failure = std::current_exception();
                    next = blobs.size();
                }
            }
        };
        unsigned threads = std::min<unsigned>(std::clamp<unsigned>(options.parallel, 1, 16),
                                              static_cast<unsigned>(blobs.size()));
        std::vector<std::thread> pool;
        for (unsigned t = 1; t < threads; ++t)
            pool.emplace_back(worker);
        worker();
        for (auto& thread : pool)
            thread.join();
        if (failure) std::rethrow_exception(failure);

        std::string content = store.blobs().read(image.manifest_digest, max_document_size);
        std::string media_type = image.manifest.media_type.empty() ? oci::media_type::oci_manifest
                                                                   : image.manifest.media_type;
        PushResult result;
        result.tag = reference.tag;
        result.digest =
            client.put_manifest(reference.repository, reference.tag, media_type, content);
        result.size = content.size();
        return result;
    });
}

} // namespace berth::registry
