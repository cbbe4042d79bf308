// Hand-made tarballs and compressed streams for the image tests: raw
// headers (so the reader is not only tested against our own writer) and
// helpers to build layers entry by entry.
#pragma once

#include "berth/image/tar_reader.h"

#include <string>
#include <string_view>

namespace berth_test {

// One 512-byte header block with a valid checksum. `type` is the raw type
// flag ('0', '5', 'L', 'x'...). `prefix` fills the ustar prefix field.
std::string raw_header(std::string_view name, char type, std::uint64_t size,
                       std::string_view link = {}, std::string_view prefix = {},
                       std::uint32_t mode = 0644);
// `data` followed by zero padding to a whole block.
std::string padded(std::string_view data);
// A pax record "<len> key=value\n".
std::string pax_record(std::string_view key, std::string_view value);
// Two zero blocks.
std::string end_of_archive();

// Builds an archive with berth's TarWriter.
class Layer {
  public:
    Layer& file(const std::string& path, std::string_view contents, std::uint32_t mode = 0644,
                std::uint32_t uid = 0, std::uint32_t gid = 0);
    Layer& directory(const std::string& path, std::uint32_t mode = 0755, std::int64_t mtime = 0);
    Layer& symlink(const std::string& path, const std::string& target);
    Layer& hard_link(const std::string& path, const std::string& target);
    Layer& entry(const berth::image::TarEntry& entry, std::string_view data = {});
    // The archive, with its end blocks.
    std::string bytes() const;

  private:
    std::string entries_;
};

std::string gzip(std::string_view data);
std::string zstd(std::string_view data);

} // namespace berth_test
