// Blobs (layers, manifests, configs) by sha256 digest under <root>/blobs.
// A blob is hashed while it is written and becomes visible, under its
// digest, only once complete and verified: a reader never sees a partial
// blob, and a killed writer leaves nothing behind (O_TMPFILE) or at worst a
// temporary file that the next start removes.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/image/byte_stream.h"
#include "berth/oci/digest.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::image {

struct PendingBlob;

// A blob being written in pieces (a download arriving chunk by chunk): hashed
// as it grows, published under its digest by commit() once verified; dropped,
// with nothing left in the store, when destroyed uncommitted.
class BlobWriter {
  public:
    BlobWriter(BlobWriter&&) noexcept;
    ~BlobWriter();
    void write(std::string_view data);
    std::uint64_t size() const { return bytes_; }
    // Checks the digest (and `expected_size` when not negative) and makes the
    // blob visible; Error on a mismatch, and the blob is dropped.
    oci::Digest commit(const std::optional<oci::Digest>& expected = {},
                       std::int64_t expected_size = -1);

  private:
    friend class ContentStore;
    BlobWriter(const std::string& directory);
    std::string directory_;
    std::unique_ptr<PendingBlob> pending_;
    oci::Sha256 hash_;
    std::uint64_t bytes_ = 0;
};

class ContentStore {
  public:
    // Creates <root>/blobs/sha256 if needed.
    explicit ContentStore(const std::string& root);

    std::string path(const oci::Digest& digest) const;
    bool has(const oci::Digest& digest) const;
    // Size in bytes; Error if the blob is missing.
    std::uint64_t size(const oci::Digest& digest) const;
    UniqueFd open(const oci::Digest& digest) const;
    // A small blob (manifest, config) read whole and checked against its digest,
    // so that a corrupted store is noticed rather than believed.
    std::string read(const oci::Digest& digest, std::size_t limit = 16 << 20) const;

    oci::Digest put(std::string_view data);
    // Streams `source` into the store. With `expected`, a mismatch (digest or
    // `expected_size` when not negative) is an Error and nothing is stored.
    oci::Digest ingest(ByteSource& source, const std::optional<oci::Digest>& expected = {},
                       std::int64_t expected_size = -1);

    // A writer for a blob that arrives in pieces.
    BlobWriter writer() const { return BlobWriter(directory_); }

    std::vector<oci::Digest> list() const;
    void remove(const oci::Digest& digest);
    // Removes temporaries left by killed writers. Only safe while no other
    // writer runs (the caller holds the store's exclusive lock).
    void remove_stale_temporaries();

  private:
    std::string directory_;
};

} // namespace berth::image
