// Pull-based byte streams: a layer flows from its blob file through a
// digest, a decompressor and another digest into the tar reader, one buffer
// at a time, so nothing is ever held whole in memory.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/oci/digest.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::image {

class ByteSource {
  public:
    virtual ~ByteSource() = default;
    // Reads up to `size` bytes; returns 0 only at the end of the stream.
    virtual std::size_t read(void* buffer, std::size_t size) = 0;
};

// Reads exactly `size` bytes; false if the stream ended first (at most a
// partial buffer was filled, and `*got` says how much).
bool read_exact(ByteSource& source, void* buffer, std::size_t size, std::size_t* got = nullptr);
// Reads to the end, returning how many bytes were thrown away.
std::uint64_t drain(ByteSource& source);
// Reads everything, refusing more than `limit` bytes (for small JSON documents).
std::string read_to_string(ByteSource& source, std::size_t limit, std::string_view what);

class FdSource : public ByteSource {
  public:
    // Does not own `fd`; `what` names it in errors.
    FdSource(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
    std::size_t read(void* buffer, std::size_t size) override;

  private:
    int fd_;
    std::string what_;
};

class MemorySource : public ByteSource {
  public:
    explicit MemorySource(std::string_view data) : data_(data) {}
    std::size_t read(void* buffer, std::size_t size) override;

  private:
    std::string_view data_;
};

// Hashes and counts every byte that passes through it.
class DigestingSource : public ByteSource {
  public:
    explicit DigestingSource(ByteSource& inner) : inner_(inner) {}
    std::size_t read(void* buffer, std::size_t size) override;
    std::uint64_t bytes() const { return bytes_; }
    oci::Digest finish() { return hash_.finish(); }

  private:
    ByteSource& inner_;
    oci::Sha256 hash_;
    std::uint64_t bytes_ = 0;
};

// Lets a caller look at a stream's first bytes (to detect its compression)
// before handing the whole stream on.
class PeekableSource : public ByteSource {
  public:
    explicit PeekableSource(ByteSource& inner) : inner_(inner) {}
    // Up to `size` first bytes (fewer if the stream is shorter).
    std::string_view peek(std::size_t size);
    std::size_t read(void* buffer, std::size_t size) override;

  private:
    ByteSource& inner_;
    std::string head_;
    std::size_t head_offset_ = 0;
};

} // namespace berth::image
