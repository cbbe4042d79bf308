#include "berth/image/byte_stream.h"

#include "berth/base/error.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace berth::image {

bool read_exact(ByteSource& source, void* buffer, std::size_t size, std::size_t* got) {
    auto* out = static_cast<char*>(buffer);
    std::size_t done = 0;
    while (done < size) {
        std::size_t n = source.read(out + done, size - done);
        if (n == 0) break;
        done += n;
    }
    if (got) *got = done;
    return done == size;
}

std::uint64_t drain(ByteSource& source) {
    char buffer[65536];
    std::uint64_t total = 0;
    while (std::size_t n = source.read(buffer, sizeof buffer))
        total += n;
    return total;
}

std::string read_to_string(ByteSource& source, std::size_t limit, std::string_view what) {
    std::string data;
    char buffer[65536];
    while (std::size_t n = source.read(buffer, sizeof buffer)) {
        if (data.size() + n > limit)
            fail(std::string(what) + ": larger than " + std::to_string(limit) + " bytes");
        data.append(buffer, n);
    }
    return data;
}

std::size_t FdSource::read(void* buffer, std::size_t size) {
    for (;;) {
        ssize_t n = ::read(fd_, buffer, size);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) throw_errno("reading " + what_);
    }
}

std::size_t MemorySource::read(void* buffer, std::size_t size) {
    std::size_t n = std::min(size, data_.size());
    if (n == 0) return 0;
    std::memcpy(buffer, data_.data(), n);
    data_.remove_prefix(n);
    return n;
}

std::size_t DigestingSource::read(void* buffer, std::size_t size) {
    std::size_t n = inner_.read(buffer, size);
    hash_.update(buffer, n);
    bytes_ += n;
    return n;
}

std::string_view PeekableSource::peek(std::size_t size) {
    while (head_.size() < size) {
        char buffer[4096];
        std::size_t n = inner_.read(buffer, std::min(sizeof buffer, size - head_.size()));
        if (n == 0) break;
        head_.append(buffer, n);
    }
    return std::string_view(head_).substr(0, size);
}

std::size_t PeekableSource::read(void* buffer, std::size_t size) {
    if (head_offset_ < head_.size()) {
        std::size_t n = std::min(size, head_.size() - head_offset_);
        std::memcpy(buffer, head_.data() + head_offset_, n);
        head_offset_ += n;
        return n;
    }
    return inner_.read(buffer, size);
}

} // namespace berth::image
