#include "berth/image/tar_reader.h"

#include "berth/base/error.h"

#include <cstring>
#include <optional>
#include <string_view>

namespace berth::image {

namespace {

constexpr std::size_t block_size = 512;

struct Field {
    std::size_t offset;
    std::size_t length;
};
constexpr Field name_field{0, 100}, mode_field{100, 8}, uid_field{108, 8}, gid_field{116, 8},
    size_field{124, 12}, mtime_field{136, 12}, checksum_field{148, 8}, link_field{157, 100},
    magic_field{257, 6}, version_field{263, 2}, major_field{329, 8}, minor_field{337, 8},
    prefix_field{345, 155}, gnu_atime_field{345, 12};
constexpr std::size_t type_offset = 156;

std::string_view field(const unsigned char* header, Field f) {
    return std::string_view(reinterpret_cast<const char*>(header) + f.offset, f.length);
}

// A NUL-terminated string field (or the whole field when it has no NUL).
std::string text(const unsigned char* header, Field f) {
    std::string_view raw = field(header, f);
    return std::string(raw.substr(0, raw.find('\0')));
}

// An octal number padded with spaces or NULs, or GNU's base-256 form for
// values that do not fit (high bit of the first byte set).
std::uint64_t number(const unsigned char* header, Field f, const char* what) {
    std::string_view raw = field(header, f);
    auto first = static_cast<unsigned char>(raw[0]);
    if (first & 0x80) {
        if (first == 0xff) fail(std::string("tar header: negative ") + what);
        std::uint64_t value = first & 0x7f;
        for (std::size_t i = 1; i < raw.size(); ++i) {
            if (value >> 55) fail(std::string("tar header: ") + what + " is too large");
            value = (value << 8) | static_cast<unsigned char>(raw[i]);
        }
        return value;
    }
    std::size_t i = 0;
    while (i < raw.size() && raw[i] == ' ')
        ++i;
    std::uint64_t value = 0;
    bool any_digit = false;
    for (; i < raw.size() && raw[i] >= '0' && raw[i] <= '7'; ++i) {
        if (value >> 60) fail(std::string("tar header: ") + what + " is too large");
        value = value * 8 + static_cast<unsigned>(raw[i] - '0');
        any_digit = true;
    }
    for (; i < raw.size(); ++i)
        if (raw[i] != ' ' && raw[i] != '\0')
            fail(std::string("tar header: ") + what + " is not an octal number");
    (void)any_digit; // an all-blank field reads as 0, as GNU tar does
    return value;
}

std::uint32_t number32(const unsigned char* header, Field f, const char* what) {
    std::uint64_t value = number(header, f, what);
    if (value > 0xffffffffu) fail(std::string("tar header: ") + what + " is out of range");
    return static_cast<std::uint32_t>(value);
}

bool checksum_matches(const unsigned char* header) {
    std::uint64_t expected = number(header, checksum_field, "checksum");
    std::uint64_t unsigned_sum = 0;
    std::int64_t signed_sum = 0;
    for (std::size_t i = 0; i < block_size; ++i) {
        bool in_field =
            i >= checksum_field.offset && i < checksum_field.offset + checksum_field.length;
        unsigned char byte = in_field ? ' ' : header[i];
        unsigned_sum += byte;
        signed_sum += static_cast<signed char>(byte);
    }
    return expected == unsigned_sum || static_cast<std::int64_t>(expected) == signed_sum;
}

bool all_zero(const unsigned char* block) {
    for (std::size_t i = 0; i < block_size; ++i)
        if (block[i]) return false;
    return true;
}

void check_path(const std::string& path, const char* what) {
    if (path.size() > TarReader::max_path)
        fail(std::string("tar: ") + what + " is longer than PATH_MAX (" +
             std::to_string(path.size()) + " bytes)");
    if (path.find('\0') != std::string::npos)
        fail(std::string("tar: ") + what + " contains a NUL byte");
}

std::uint64_t parse_decimal(std::string_view text, const char* what) {
    if (text.empty() || text.size() > 19) fail(std::string("tar pax header: bad ") + what);
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') fail(std::string("tar pax header: bad ") + what);
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value;
}

// "1700000000.123456789" (or a negative number, which we clamp to 0).
TarTime parse_pax_time(std::string_view text) {
    TarTime time;
    bool negative = !text.empty() && text[0] == '-';
    if (negative) text.remove_prefix(1);
    auto dot = text.find('.');
    time.seconds = static_cast<std::int64_t>(parse_decimal(text.substr(0, dot), "time"));
    if (dot != std::string_view::npos) {
        std::string_view fraction = text.substr(dot + 1);
        std::uint32_t nanos = 0;
        for (std::size_t i = 0; i < 9; ++i) {
            char c = i < fraction.size() ? fraction[i] : '0';
            if (c < '0' || c > '9') fail("tar pax header: bad time");
            nanos = nanos * 10 + static_cast<unsigned>(c - '0');
        }
        time.nanoseconds = nanos;
    }
    if (negative) time = TarTime{};
    return time;
}

struct PaxRecords {
    std::optional<std::string> path, link_path;
    std::optional<std::uint64_t> size, uid, gid;
    std::optional<TarTime> mtime, atime;
    std::map<std::string, std::string> xattrs;
};

// Records are "<length> <key>=<value>\n", the length counting the whole record.
void parse_pax(std::string_view data, PaxRecords& records) {
    while (!data.empty()) {
        auto space = data.find(' ');
        if (space == std::string_view::npos) fail("tar pax header: record without a length");
        std::uint64_t length = parse_decimal(data.substr(0, space), "record length");
        if (length <= space + 1 || length > data.size()) fail("tar pax header: bad record length");
        std::string_view record = data.substr(space + 1, length - space - 1);
        data.remove_prefix(length);
        if (record.empty() || record.back() != '\n')
            fail("tar pax header: record not ended by newline");
        record.remove_suffix(1);
        auto equals = record.find('=');
        if (equals == std::string_view::npos) fail("tar pax header: record without '='");
        std::string_view key = record.substr(0, equals);
        std::string value(record.substr(equals + 1));
        if (key == "path")
            records.path = value;
        else if (key == "linkpath")
            records.link_path = value;
        else if (key == "size")
            records.size = parse_decimal(value, "size");
        else if (key == "uid")
            records.uid = parse_decimal(value, "uid");
        else if (key == "gid")
            records.gid = parse_decimal(value, "gid");
        else if (key == "mtime")
            records.mtime = parse_pax_time(value);
        else if (key == "atime")
            records.atime = parse_pax_time(value);
        else if (key.substr(0, 12) == "SCHILY.xattr") {
            if (key.size() <= 13 || key[12] != '.') fail("tar pax header: xattr without a name");
            records.xattrs[std::string(key.substr(13))] = std::move(value);
        } else if (key.substr(0, 11) == "GNU.sparse.")
            fail("tar: sparse files are not supported in image layers");
        // Other keys (uname, gname, ctime, comment, charset...) do not matter here.
    }
}

std::uint32_t to_id(std::uint64_t value, const char* what) {
    if (value > 0xffffffffu) fail(std::string("tar: ") + what + " is out of range");
    return static_cast<std::uint32_t>(value);
}

} // namespace

void TarReader::skip(std::uint64_t bytes) {
    char buffer[65536];
    while (bytes > 0) {
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, sizeof buffer));
        std::size_t got = source_.read(buffer, want);
        if (got == 0) fail("tar archive is truncated");
        bytes -= got;
    }
}

std::string TarReader::read_long_value(std::uint64_t size, const char* what) {
    std::string value(static_cast<std::size_t>(size), '\0');
    if (!read_exact(source_, value.data(), value.size())) fail("tar archive is truncated");
    skip((block_size - size % block_size) % block_size);
    (void)what;
    return value;
}

std::size_t TarReader::read_data(void* buffer, std::size_t size) {
    if (data_left_ == 0) return 0;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, data_left_));
    std::size_t got = source_.read(buffer, want);
    if (got == 0) fail("tar archive is truncated");
    data_left_ -= got;
    return got;
}

bool TarReader::next(TarEntry& entry) {
    if (at_end_) return false;
    skip(data_left_ + padding_left_);
    data_left_ = padding_left_ = 0;

    PaxRecords pax;
    std::optional<std::string> gnu_long_name, gnu_long_link;
    unsigned char header[block_size];
    for (;;) {
        std::size_t got = 0;
        if (!read_exact(source_, header, block_size, &got)) {
            // Go's archive/tar, which wrote many layers in the wild, accepts an
            // archive that ends cleanly between entries without its zero blocks.
            if (got == 0 && !pax.path && !gnu_long_name) {
                at_end_ = true;
                return false;
            }
            fail("tar archive is truncated");
        }
        if (all_zero(header)) {
            at_end_ = true;
            return false;
        }
        if (!checksum_matches(header))
            fail("tar header checksum mismatch: not a tar archive, or corrupt");

        char type = static_cast<char>(header[type_offset]);
        std::uint64_t size = number(header, size_field, "size");
        if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
            std::size_t limit = (type == 'x' || type == 'g') ? max_pax_header : max_path + 1;
            if (size > limit)
                fail(std::string("tar: ") +
                     (type == 'L' || type == 'K' ? "long name" : "pax header") + " of " +
                     std::to_string(size) + " bytes is too large");
            std::string value = read_long_value(size, "extended header");
            if (type == 'x') parse_pax(value, pax);
            // Global headers ('g') hold comments in practice (git archive); like
            // Docker, we do not let them change later entries.
            if (type == 'L' || type == 'K') {
                // The name is NUL-terminated; nothing but NULs may follow it.
                auto end = value.find('\0');
                if (end != std::string::npos) {
                    if (value.find_first_not_of('\0', end) != std::string::npos)
                        fail("tar: GNU long name contains a NUL byte");
                    value.resize(end);
                }
                (type == 'L' ? gnu_long_name : gnu_long_link) = std::move(value);
            }
            continue;
        }
        break;
    }

    char type = static_cast<char>(header[type_offset]);
    entry = TarEntry{};
    switch (type) {
    case '0':
    case '\0':
    case '7':
        entry.type = TarEntryType::regular;
        break;
    case '1':
        entry.type = TarEntryType::hard_link;
        break;
    case '2':
        entry.type = TarEntryType::symlink;
        break;
    case '3':
        entry.type = TarEntryType::char_device;
        break;
    case '4':
        entry.type = TarEntryType::block_device;
        break;
    case '5':
        entry.type = TarEntryType::directory;
        break;
    case '6':
        entry.type = TarEntryType::fifo;
        break;
    case 'S':
        fail("tar: sparse files are not supported in image layers");
    default: {
        char shown[8];
        std::snprintf(shown, sizeof shown, "0x%02x", static_cast<unsigned char>(type));
        fail(std::string("tar: unsupported entry type ") + shown);
    }
    }

    std::string_view magic = field(header, magic_field);
    bool posix_ustar = magic == std::string_view("ustar\0", 6);
    bool gnu = magic == "ustar " && field(header, version_field) == std::string_view(" \0", 2);
    std::string name = text(header, name_field);
    if (posix_ustar) {
        std::string prefix = text(header, prefix_field);
        if (!prefix.empty()) name = prefix + "/" + name;
    }
    entry.path = pax.path ? *pax.path : gnu_long_name ? *gnu_long_name : name;
    entry.link_target = pax.link_path   ? *pax.link_path
                        : gnu_long_link ? *gnu_long_link
                                        : text(header, link_field);
    check_path(entry.path, "entry name");
    check_path(entry.link_target, "link target");
    if (entry.path.empty()) fail("tar: entry with an empty name");

    entry.mode = number32(header, mode_field, "mode") & 07777;
    entry.uid = pax.uid ? to_id(*pax.uid, "uid") : number32(header, uid_field, "uid");
    entry.gid = pax.gid ? to_id(*pax.gid, "gid") : number32(header, gid_field, "gid");
    std::uint64_t size = pax.size ? *pax.size : number(header, size_field, "size");
    entry.mtime = pax.mtime
                      ? *pax.mtime
                      : TarTime{static_cast<std::int64_t>(number(header, mtime_field, "mtime")), 0};
    entry.atime = entry.mtime;
    if (pax.atime)
        entry.atime = *pax.atime;
    else if (gnu && header[gnu_atime_field.offset] != 0)
        entry.atime =
            TarTime{static_cast<std::int64_t>(number(header, gnu_atime_field, "atime")), 0};
    if (entry.type == TarEntryType::char_device || entry.type == TarEntryType::block_device) {
        entry.device_major = number32(header, major_field, "device major");
        entry.device_minor = number32(header, minor_field, "device minor");
    }
    entry.xattrs = std::move(pax.xattrs);

    // Only regular files carry data; a size on anything else (GNU tar sets it
    // on hard links sometimes) is data to skip, not to apply.
    entry.size = entry.type == TarEntryType::regular ? size : 0;
    data_left_ = entry.type == TarEntryType::regular ? size : 0;
    std::uint64_t skipped = entry.type == TarEntryType::regular ? 0 : size;
    padding_left_ = skipped + (block_size - size % block_size) % block_size;
    if (entry.type == TarEntryType::hard_link || entry.type == TarEntryType::symlink) {
        if (entry.link_target.empty())
            fail("tar: link \"" + entry.path.substr(0, 200) + "\" has no target");
    }
    return true;
}

} // namespace berth::image
