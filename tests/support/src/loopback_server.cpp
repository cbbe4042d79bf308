#include "berth_test/loopback_server.hpp"

#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace berth_test {

namespace {

// A TCP socket bound to 127.0.0.1 on a port the kernel picks, and that port.
int bind_loopback(std::uint16_t& port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) < 0) {
        ::close(fd);
        throw std::runtime_error("bind to 127.0.0.1");
    }
    port = ntohs(address.sin_port);
    return fd;
}

} // namespace

LoopbackServer::LoopbackServer(Handler handle_connection, int backlog)
    : handle_connection_(std::move(handle_connection)) {
    listener_ = bind_loopback(port_);
    if (::listen(listener_, backlog) < 0 || ::pipe2(stop_pipe_, O_CLOEXEC) < 0) {
        ::close(listener_);
        throw std::runtime_error("listen on 127.0.0.1");
    }
    acceptor_ = std::thread([this] { accept_loop(); });
}

LoopbackServer::~LoopbackServer() {
    stop();
    ::close(listener_);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
}

void LoopbackServer::stop() {
    if (!acceptor_.joinable()) return;
    (void)!::write(stop_pipe_[1], "x", 1);
    acceptor_.join();
}

void LoopbackServer::accept_loop() {
    while (true) {
        pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) continue;
        if (fds[1].revents) return;
        int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        handle_connection_(client);
    }
}

std::uint16_t free_loopback_port() {
    std::uint16_t port = 0;
    ::close(bind_loopback(port));
    return port;
}

} // namespace berth_test
