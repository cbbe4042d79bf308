#include "test_archives.h"

#include "berth/image/tar_writer.h"

#include <cstring>
#include <functional>
#include <stdexcept>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

namespace berth_test {

std::string raw_header(std::string_view name, char type, std::uint64_t size, std::string_view link,
                       std::string_view prefix, std::uint32_t mode) {
    char h[512] = {};
    std::memcpy(h, name.data(), std::min<std::size_t>(name.size(), 100));
    std::snprintf(h + 100, 8, "%07o", mode);
    std::snprintf(h + 108, 8, "%07o", 0);
    std::snprintf(h + 116, 8, "%07o", 0);
    std::snprintf(h + 124, 12, "%011llo", static_cast<unsigned long long>(size));
    std::snprintf(h + 136, 12, "%011o", 0);
    h[156] = type;
    std::memcpy(h + 157, link.data(), std::min<std::size_t>(link.size(), 100));
    std::memcpy(h + 257,
                "ustar\0"
                "00",
                8);
    std::memcpy(h + 345, prefix.data(), std::min<std::size_t>(prefix.size(), 155));
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : std::string_view(h, 512))
        sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
    return std::string(h, 512);
}

std::string padded(std::string_view data) {
    std::string out(data);
    out.append((512 - data.size() % 512) % 512, '\0');
    return out;
}

std::string pax_record(std::string_view key, std::string_view value) {
    std::size_t body = key.size() + value.size() + 3;
    std::size_t length = body + 1;
    while (std::to_string(length).size() + body != length)
        ++length;
    return std::to_string(length) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

std::string end_of_archive() {
    return std::string(1024, '\0');
}

namespace {

// TarWriter writes to an fd; a pipe would need a reader thread, so a temp file.
std::string write_with(const std::function<void(berth::image::TarWriter&)>& body) {
    char path[] = "/tmp/berth-tar.XXXXXX";
    int fd = ::mkstemp(path);
    ::unlink(path);
    {
        berth::image::TarWriter writer(fd);
        body(writer);
        writer.finish();
    }
    off_t size = ::lseek(fd, 0, SEEK_END);
    std::string out(static_cast<std::size_t>(size), '\0');
    if (::pread(fd, out.data(), out.size(), 0) != size) throw std::runtime_error("pread");
    ::close(fd);
    return out.substr(0, out.size() - 1024); // without the end blocks
}

} // namespace

Layer& Layer::entry(const berth::image::TarEntry& entry, std::string_view data) {
    entries_ += write_with([&](auto& writer) {
        writer.header(entry);
        if (entry.type == berth::image::TarEntryType::regular) writer.data(data);
    });
    return *this;
}

Layer& Layer::file(const std::string& path, std::string_view contents, std::uint32_t mode,
                   std::uint32_t uid, std::uint32_t gid) {
    berth::image::TarEntry e;
    e.path = path;
    e.mode = mode;
    e.uid = uid;
    e.gid = gid;
    e.size = contents.size();
    e.mtime = {1000000000, 0};
    return entry(e, contents);
}

Layer& Layer::directory(const std::string& path, std::uint32_t mode, std::int64_t mtime) {
    berth::image::TarEntry e;
    e.type = berth::image::TarEntryType::directory;
    e.path = path;
    e.mode = mode;
    e.mtime = {mtime, 0};
    return entry(e);
}

Layer& Layer::symlink(const std::string& path, const std::string& target) {
    berth::image::TarEntry e;
    e.type = berth::image::TarEntryType::symlink;
    e.path = path;
    e.link_target = target;
    e.mode = 0777;
    return entry(e);
}

Layer& Layer::hard_link(const std::string& path, const std::string& target) {
    berth::image::TarEntry e;
    e.type = berth::image::TarEntryType::hard_link;
    e.path = path;
    e.link_target = target;
    return entry(e);
}

std::string Layer::bytes() const {
    return entries_ + end_of_archive();
}

std::string gzip(std::string_view data) {
    z_stream stream{};
    deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&stream, data.size()) + 64, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

std::string zstd(std::string_view data) {
    std::string out(ZSTD_compressBound(data.size()), '\0');
    out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
    return out;
}

} // namespace berth_test
