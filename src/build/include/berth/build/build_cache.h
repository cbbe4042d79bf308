// The layer cache: a step's key (its parent's key, the instruction as
// expanded, the build args in scope and the digest of what COPY/ADD bring)
// maps to the image the step produced, kept in the store as an image
// without a name. Lives in berth.db under the "build" component.
#pragma once

#include "berth/image/database.h"
#include "berth/oci/digest.h"

#include <optional>
#include <set>
#include <string>

namespace berth::build {

class BuildCache {
  public:
    // Creates or upgrades the build tables.
    explicit BuildCache(image::Database& database);

    std::optional<oci::Digest> find(const oci::Digest& key);
    void record(const oci::Digest& key, const oci::Digest& manifest_digest);
    // Forgets entries whose image is gone (after rmi or prune).
    void forget(const oci::Digest& key);

    // Images a build made for its steps, not as its result: `berth images`
    // shows them only with --all, as Docker does its intermediate images.
    void mark_intermediate(const oci::Digest& manifest_digest, bool intermediate);
    std::set<oci::Digest> intermediates();

  private:
    image::Database& database_;
};

} // namespace berth::build
