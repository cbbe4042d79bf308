#include "stdin_relay.h"

#include "berth/base/error.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace berth::engine {

StdinRelay::StdinRelay(int fd, bool owns_fd) : fd_(fd) {
    if (owns_fd) owned_.reset(fd);
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        throw_errno("making the container's input non-blocking");
}

void StdinRelay::push(std::string_view data) {
    if (fd_ < 0 || closing_) return;
    pending_.append(data);
    write_pending();
}

bool StdinRelay::write_pending() {
    while (!pending_.empty() && fd_ >= 0) {
        ssize_t n = ::write(fd_, pending_.data(), pending_.size());
        if (n > 0) {
            pending_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        // EPIPE or EIO: the container closed its input or exited.
        pending_.clear();
        owned_.reset();
        fd_ = -1;
        return false;
    }
    if (pending_.empty() && closing_ && owned_) {
        owned_.reset();
        fd_ = -1;
    }
    return fd_ >= 0;
}

int StdinRelay::release() {
    owned_.release();
    int fd = fd_;
    fd_ = -1;
    return fd;
}

void StdinRelay::close_input() {
    if (!owned_) return;
    closing_ = true;
    write_pending();
}

} // namespace berth::engine
