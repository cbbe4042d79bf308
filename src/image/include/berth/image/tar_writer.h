// Writes tar archives (ustar, with pax headers only when a field does not
// fit) for `berth save` and for tests that need hand-made layers.
#pragma once

#include "berth/image/tar_reader.h"

#include <string>
#include <string_view>
#include <vector>

namespace berth::image {

class TarWriter {
  public:
    // Writes to `fd` (not owned), buffered.
    explicit TarWriter(int fd) : fd_(fd) {}
    ~TarWriter() = default;

    // The header of `entry` (its size says how much data must follow).
    void header(const TarEntry& entry);
    // Entry data, then padding once `entry.size` bytes were written.
    void data(std::string_view bytes);

    void file(const std::string& path, std::string_view contents, std::uint32_t mode = 0644);
    // A regular file whose data is copied from `source_fd` (`size` bytes).
    void file_from_fd(const std::string& path, int source_fd, std::uint64_t size,
                      std::uint32_t mode = 0644);
    void directory(const std::string& path, std::uint32_t mode = 0755);
    // The two zero blocks that end an archive, and a flush.
    void finish();

  private:
    void raw(std::string_view bytes);
    void flush();

    int fd_;
    std::string buffer_;
    std::uint64_t data_left_ = 0;
    std::uint64_t data_size_ = 0;
};

} // namespace berth::image
