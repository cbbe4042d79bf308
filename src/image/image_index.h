// The image index in berth.db: which images the store holds (by manifest
// digest) and the names that point at them. Names are fully qualified
// ("docker.io/library/busybox:latest"); an image may have none (dangling).
#pragma once

#include "berth/image/database.h"
#include "berth/oci/digest.h"

#include <optional>
#include <string>
#include <vector>

namespace berth::image {

struct ImageRecord {
    oci::Digest manifest_digest;
    oci::Digest config_digest; // the image ID
    std::int64_t size = 0;     // unpacked bytes when known, else the layers' stored size
    std::string created;       // from the image config, RFC 3339
    std::int64_t added = 0;    // seconds since the epoch
    std::vector<std::string> names;
};

class ImageIndex {
  public:
    // Creates or upgrades the tables.
    explicit ImageIndex(Database& db);

    Database& database() { return db_; }

    // Adds the image, or leaves an existing record's names and time alone.
    void add(const ImageRecord& record);
    // Points `name` at the image, taking it from any other image.
    void set_name(const std::string& name, const oci::Digest& manifest_digest);
    // False if no image had that name.
    bool remove_name(const std::string& name);
    void remove_image(const oci::Digest& manifest_digest);
    void set_size(const oci::Digest& manifest_digest, std::int64_t size);

    std::vector<ImageRecord> all();
    std::optional<ImageRecord> by_name(const std::string& name);
    std::optional<ImageRecord> by_manifest(const oci::Digest& manifest_digest);
    // Images whose ID (config digest) or manifest digest starts with `hex_prefix`.
    std::vector<ImageRecord> by_hex_prefix(const std::string& hex_prefix);

  private:
    std::vector<ImageRecord> query(const std::string& where, const std::string& argument);

    Database& db_;
};

} // namespace berth::image
