// `berth push`: an image of the store to a registry, byte for byte (same
// manifest, same digests), so that pulling it back gives the same image.
// Blobs the registry has are skipped (HEAD), blobs it has in another
// repository the image came from are mounted, the rest uploaded (in one
// PUT, or in PATCH chunks when big), the manifest last.
#pragma once

#include "berth/image/image_store.h"
#include "berth/oci/reference.h"
#include "berth/registry/client.h"

#include <functional>

namespace berth::registry {

struct BlobEvent {
    enum class Kind { already_exists, mounted, pushing, pushed };
    Kind kind;
    oci::Digest digest;
    std::uint64_t bytes = 0;
    std::uint64_t total = 0;
    std::string from; // the repository a mounted blob came from
};

struct PushOptions {
    ClientOptions client;
    unsigned parallel = 3;
    // Blobs bigger than this go up in PATCH chunks of this size.
    std::uint64_t chunk_size = 64ull << 20;
    std::function<void(const BlobEvent&)> on_blob; // serialized
};

struct PushResult {
    oci::Digest digest; // of the manifest
    std::uint64_t size = 0;
    std::string tag;
};

// Pushes the stored image `reference` names to where it points.
PushResult push(image::ImageStore& store, const oci::Reference& reference,
                const PushOptions& options);

} // namespace berth::registry
