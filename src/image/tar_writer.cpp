#include "berth/image/tar_writer.h"

#include "berth/base/error.h"
#include "berth/base/files.h"

#include <cstring>
#include <unistd.h>

namespace berth::image {

namespace {

constexpr std::size_t block_size = 512;
constexpr std::size_t flush_size = 1 << 20;

char type_flag(TarEntryType type) {
    switch (type) {
    case TarEntryType::regular:
        return '0';
    case TarEntryType::hard_link:
        return '1';
    case TarEntryType::symlink:
        return '2';
    case TarEntryType::char_device:
        return '3';
    case TarEntryType::block_device:
        return '4';
    case TarEntryType::directory:
        return '5';
    case TarEntryType::fifo:
        return '6';
    }
    return '0';
}

// Octal into a field, NUL-terminated; false if it does not fit.
bool put_octal(char* field, std::size_t length, std::uint64_t value) {
    char text[32];
    int n = std::snprintf(text, sizeof text, "%0*llo", static_cast<int>(length - 1),
                          static_cast<unsigned long long>(value));
    if (n < 0 || static_cast<std::size_t>(n) > length - 1) return false;
    std::memcpy(field, text, length);
    return true;
}

void put_text(char* field, std::size_t length, std::string_view text) {
    std::memcpy(field, text.data(), std::min(length, text.size()));
}

// One pax record: "<len> key=value\n", where len counts itself.
std::string pax_record(std::string_view key, std::string_view value) {
    std::size_t body = key.size() + value.size() + 3; // ' ', '=', '\n'
    std::size_t length = body + 1;
    while (std::to_string(length).size() + body != length)
        ++length;
    return std::to_string(length) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

std::string time_text(const TarTime& time) {
    if (time.nanoseconds == 0) return std::to_string(time.seconds);
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%09u", time.nanoseconds);
    return std::to_string(time.seconds) + fraction;
}

} // namespace

void TarWriter::raw(std::string_view bytes) {
    buffer_.append(bytes);
    if (buffer_.size() >= flush_size) flush();
}

void TarWriter::flush() {
    write_all(fd_, buffer_, "the archive");
    buffer_.clear();
}

void TarWriter::header(const TarEntry& entry) {
    if (data_left_) fail("tar writer: previous entry's data is incomplete");
    std::string pax;
    std::string path = entry.path;
    if (entry.type == TarEntryType::directory && (path.empty() || path.back() != '/')) path += '/';
    if (path.size() > 100) pax += pax_record("path", path);
    if (entry.link_target.size() > 100) pax += pax_record("linkpath", entry.link_target);
    if (entry.mtime.nanoseconds) pax += pax_record("mtime", time_text(entry.mtime));
    if (entry.size > 077777777777ull) pax += pax_record("size", std::to_string(entry.size));
    if (entry.uid > 07777777) pax += pax_record("uid", std::to_string(entry.uid));
    if (entry.gid > 07777777) pax += pax_record("gid", std::to_string(entry.gid));
    for (const auto& [key, value] : entry.xattrs)
        pax += pax_record("SCHILY.xattr." + key, value);

    auto block = [&](char type, std::string_view name, std::uint64_t size) {
        char h[block_size] = {};
        put_text(h + 0, 100, name);
        put_octal(h + 100, 8, entry.mode & 07777);
        put_octal(h + 108, 8, entry.uid > 07777777 ? 0 : entry.uid);
        put_octal(h + 116, 8, entry.gid > 07777777 ? 0 : entry.gid);
        put_octal(h + 124, 12, size > 077777777777ull ? 0 : size);
        put_octal(h + 136, 12,
                  entry.mtime.seconds < 0 ? 0 : static_cast<std::uint64_t>(entry.mtime.seconds));
        h[156] = type;
        put_text(h + 157, 100, entry.link_target);
        std::memcpy(h + 257,
                    "ustar\0"
                    "00",
                    8);
        put_octal(h + 329, 8, entry.device_major);
        put_octal(h + 337, 8, entry.device_minor);
        std::memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (unsigned char c : std::string_view(h, block_size))
            sum += c;
        std::snprintf(h + 148, 8, "%06o", sum);
        h[155] = ' ';
        raw(std::string_view(h, block_size));
    };
    if (!pax.empty()) {
        block('x', "PaxHeaders/" + path.substr(0, 80), pax.size());
        raw(pax);
        raw(std::string((block_size - pax.size() % block_size) % block_size, '\0'));
    }
    block(type_flag(entry.type), path, entry.type == TarEntryType::regular ? entry.size : 0);
    data_size_ = data_left_ = entry.type == TarEntryType::regular ? entry.size : 0;
}

void TarWriter::data(std::string_view bytes) {
    if (bytes.size() > data_left_) fail("tar writer: more data than the entry's size");
    raw(bytes);
    data_left_ -= bytes.size();
    if (data_left_ == 0)
        raw(std::string((block_size - data_size_ % block_size) % block_size, '\0'));
}

void TarWriter::file(const std::string& path, std::string_view contents, std::uint32_t mode) {
    TarEntry entry;
    entry.path = path;
    entry.mode = mode;
    entry.size = contents.size();
    header(entry);
    data(contents);
}

void TarWriter::file_from_fd(const std::string& path, int source_fd, std::uint64_t size,
                             std::uint32_t mode) {
    TarEntry entry;
    entry.path = path;
    entry.mode = mode;
    entry.size = size;
    header(entry);
    std::string chunk(1 << 20, '\0');
    while (data_left_ > 0) {
        ssize_t n =
            ::read(source_fd, chunk.data(), std::min<std::uint64_t>(chunk.size(), data_left_));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("reading " + path);
        if (n == 0) fail(path + " is shorter than expected");
        data(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    }
    if (size == 0) data({});
}

void TarWriter::directory(const std::string& path, std::uint32_t mode) {
    TarEntry entry;
    entry.type = TarEntryType::directory;
    entry.path = path;
    entry.mode = mode;
    header(entry);
}

void TarWriter::finish() {
    raw(std::string(2 * block_size, '\0'));
    flush();
}

} // namespace berth::image
