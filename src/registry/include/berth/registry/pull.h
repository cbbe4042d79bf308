// `berth pull`: a reference's manifest (the host's platform of an index),
// its config and its layers, several at once, each streamed into the
// content store with its digest checked and unpacked into its snapshot as
// soon as it is whole, exactly as `berth load` leaves them. The image is
// indexed only when everything is there; on failure what this pull added
// is removed again.
#pragma once

#include "berth/image/image_store.h"
#include "berth/oci/reference.h"
#include "berth/registry/client.h"

#include <functional>
#include <optional>

namespace berth::registry {

struct LayerEvent {
    enum class Kind {
        already_exists, // blob and snapshot were in the store
        waiting,        // queued behind the transfers running
        downloading,    // `bytes` of `total` so far
        download_complete,
        pull_complete, // unpacked
    };
    Kind kind;
    oci::Digest digest;
    std::uint64_t bytes = 0;
    std::uint64_t total = 0;
};

struct PullOptions {
    ClientOptions client;
    std::optional<oci::Platform> platform; // else the host's
    unsigned parallel = 3;                 // layers transferred at once
    // Called one event at a time (from the transfer threads, serialized).
    std::function<void(const LayerEvent&)> on_layer;
};

struct PullResult {
    image::Image image;
    oci::Digest
        digest; // what the reference resolved to (an index's digest for a multi-platform image)
    bool downloaded = false; // false when the store had everything already
};

PullResult pull(image::ImageStore& store, const oci::Reference& reference,
                const PullOptions& options);

} // namespace berth::registry
