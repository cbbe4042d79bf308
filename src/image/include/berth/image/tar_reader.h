// A streaming reader of the tar formats image layers use: ustar, pax
// extended headers (long names, big sizes, sub-second times, xattrs) and
// GNU long names. It trusts nothing in the archive: every field is range-
// checked and names are returned raw, for the caller to confine.
#pragma once

#include "berth/image/byte_stream.h"

#include <cstdint>
#include <map>
#include <string>

namespace berth::image {

enum class TarEntryType { regular, hard_link, symlink, char_device, block_device, directory, fifo };

struct TarTime {
    std::int64_t seconds = 0;
    std::uint32_t nanoseconds = 0;
};

struct TarEntry {
    TarEntryType type = TarEntryType::regular;
    std::string path;        // as written: may be absolute, hold "..", end in "/"
    std::string link_target; // hard link or symlink target
    std::uint32_t mode = 0;  // permission bits and setuid/setgid/sticky
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t size = 0; // bytes of data that follow (regular files only)
    TarTime mtime;
    TarTime atime; // mtime when the archive has none
    std::uint32_t device_major = 0;
    std::uint32_t device_minor = 0;
    std::map<std::string, std::string> xattrs; // from SCHILY.xattr.* pax records
};

class TarReader {
  public:
    // Names and link targets longer than this are refused (Linux's PATH_MAX).
    static constexpr std::size_t max_path = 4096;
    // Pax headers carry xattrs, so they may be large, but not unbounded.
    static constexpr std::size_t max_pax_header = 1 << 20;

    explicit TarReader(ByteSource& source) : source_(source) {}

    // Moves to the next entry, skipping what is left of the current one's
    // data. False at the end of the archive. Error on anything malformed or
    // cut short.
    bool next(TarEntry& entry);

    // Reads the current entry's data; 0 once it is all read.
    std::size_t read_data(void* buffer, std::size_t size);

  private:
    void skip(std::uint64_t bytes);
    std::string read_long_value(std::uint64_t size, const char* what);

    ByteSource& source_;
    std::uint64_t data_left_ = 0;
    std::uint64_t padding_left_ = 0;
    bool at_end_ = false;
};

} // namespace berth::image
