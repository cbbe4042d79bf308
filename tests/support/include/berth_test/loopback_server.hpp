// A TCP server of a test's own on 127.0.0.1 (an HTTP file server, a token
// server, a proxy in front of a registry): the listening socket on a port the
// kernel picks, and an accept loop on a thread of its own until stop().
#pragma once

#include <cstdint>
#include <functional>
#include <thread>

namespace berth_test {

class LoopbackServer {
  public:
    // Called on the accept thread with each accepted connection (SOCK_CLOEXEC),
    // which it then owns and must close. The next connection is accepted once
    // it returns, so slow handlers hand the fd to a thread of their own.
    using Handler = std::function<void(int client)>;

    explicit LoopbackServer(Handler handle_connection, int backlog = 16);
    ~LoopbackServer(); // stop()s
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    std::uint16_t port() const noexcept { return port_; }

    // Readable from the first stop() on, for handlers that poll() it next to
    // their connection so that they end when the server does.
    int stop_fd() const noexcept { return stop_pipe_[0]; }

    // Ends the accept loop and joins its thread; connections that a handler
    // passed on are the handler's to end. Idempotent.
    void stop();

  private:
    void accept_loop();

    Handler handle_connection_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    // A pipe rather than a flag: the accept loop blocks in poll() on the
    // listener and this pipe, and needs no timeout to notice stop().
    int stop_pipe_[2] = {-1, -1};
    std::thread acceptor_;
};

// A loopback TCP port that was free a moment ago: bound to port 0 and closed
// again, for servers (a registry, a published port) that insist on being told
// a port. Another process may take it in between; tests accept that race.
std::uint16_t free_loopback_port();

} // namespace berth_test
