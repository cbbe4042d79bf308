// The container's standard input as the monitor feeds it: bytes that arrive
// from an attached command are queued and written only when the pipe (or
// the pty master) has room, so a container that is slow to read its input
// never stops the monitor from draining its output.
#pragma once

#include "berth/base/unique_fd.h"

#include <string>
#include <string_view>

namespace berth::engine {

class StdinRelay {
  public:
    StdinRelay() = default;
    // `fd`: the write end of the container's stdin pipe, or its pty master;
    // made non-blocking. `owns_fd`: closed by close_input() (a pipe).
    StdinRelay(int fd, bool owns_fd);
    StdinRelay(StdinRelay&&) = default;
    StdinRelay& operator=(StdinRelay&&) = default;

    bool active() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    // Queued bytes wait for the fd to be writable (poll for POLLOUT).
    bool has_pending() const { return !pending_.empty(); }

    void push(std::string_view data);
    // Writes what it can of the queue; false once the container's side is gone.
    bool write_pending();
    // End of input: a pipe closes once its queue is written. A terminal
    // takes no end from us; its reader sees one when it exits.
    void close_input();
    // Gives up the fd without closing it (-1 if it is closed already).
    int release();

  private:
    int fd_ = -1;
    UniqueFd owned_;
    std::string pending_;
    bool closing_ = false;
};

} // namespace berth::engine
