// A TCP proxy between berth and the registry, to count blob requests and to
// misbehave on purpose: cut a blob stream halfway, or flip a byte of it.
// Only used for pulls (requests without bodies), one request at a time per
// connection, as curl sends them.
#include "registry_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace registry_test {

namespace {

int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
    // Each connection relays on a thread of its own, so that one stalled
    // blob stream does not hold up the next request.
    server_ = std::make_unique<berth_test::LoopbackServer>(
        [this](int client) {
            std::lock_guard guard(lock_);
            connections_.emplace_back([this, client] { serve(client); });
        },
        64);
}

TcpProxy::~TcpProxy() {
    // Stopping also wakes the relays, which poll the server's stop fd.
    server_->stop();
    std::vector<std::thread> connections;
    {
        std::lock_guard guard(lock_);
        connections.swap(connections_);
    }
    for (auto& connection : connections)
        connection.join();
}

void TcpProxy::cut_blob_once(const std::string& digest, std::size_t after_bytes) {
    std::lock_guard guard(lock_);
    cut_digest_ = digest;
    cut_after_ = after_bytes;
}

void TcpProxy::cut_blob_always(const std::string& digest, std::size_t after_bytes) {
    std::lock_guard guard(lock_);
    cut_digest_ = digest;
    cut_after_ = after_bytes;
    cut_always_ = true;
}

void TcpProxy::corrupt_blob(const std::string& digest) {
    std::lock_guard guard(lock_);
    corrupt_digest_ = digest;
}

int TcpProxy::blob_gets(const std::string& digest) {
    std::lock_guard guard(lock_);
    return gets_[digest];
}

int TcpProxy::ranged_blob_gets(const std::string& digest) {
    std::lock_guard guard(lock_);
    return ranged_gets_[digest];
}

void TcpProxy::serve(int client) {
    int server = connect_to(target_port_);
    if (server < 0) {
        ::close(client);
        return;
    }
    std::string request_text;
    // The blob the response now flowing belongs to, and where its body is.
    std::string blob;
    bool in_body = false;
    std::string header_tail;
    std::size_t body_bytes = 0;
    std::vector<char> buffer(64 * 1024);
    while (true) {
        pollfd fds[3] = {{client, POLLIN, 0}, {server, POLLIN, 0}, {server_->stop_fd(), POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) continue;
        if (fds[2].revents) break;
        if (fds[0].revents) {
            ssize_t n = ::recv(client, buffer.data(), buffer.size(), 0);
            if (n <= 0) break;
            request_text.append(buffer.data(), static_cast<std::size_t>(n));
            bool answered_here = false;
            // Whole request heads: note blob GETs.
            for (auto end = request_text.find("\r\n\r\n"); end != std::string::npos;
                 end = request_text.find("\r\n\r\n")) {
                std::string head = request_text.substr(0, end);
                request_text.erase(0, end + 4);
                auto marker = head.find("/blobs/sha256:");
                if (head.rfind("GET ", 0) == 0 && marker != std::string::npos) {
                    std::string digest = head.substr(marker + 7, 71);
                    bool ranged = head.find("\r\nRange:") != std::string::npos ||
                                  head.find("\r\nrange:") != std::string::npos;
                    {
                        std::lock_guard guard(lock_);
                        ++gets_[digest];
                        if (ranged) ++ranged_gets_[digest];
                    }
                    blob = digest;
                    if (redirect_) {
                        std::string path = head.substr(4, head.find(' ', 4) - 4);
                        std::string answer =
                            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://localhost:" +
                            std::to_string(target_port_) + path + "\r\nContent-Length: 0\r\n\r\n";
                        send_all(client, answer.data(), answer.size());
                        blob.clear();
                        answered_here = true;
                        continue;
                    }
                } else {
                    blob.clear();
                }
                in_body = false;
                header_tail.clear();
                body_bytes = 0;
            }
            // A redirected request is not the registry's to answer (pulls
            // send one request at a time, so the read held just that one).
            if (!answered_here && !send_all(server, buffer.data(), static_cast<std::size_t>(n)))
                break;
        }
        if (fds[1].revents) {
            ssize_t n = ::recv(server, buffer.data(), buffer.size(), 0);
            if (n <= 0) break;
            std::size_t size = static_cast<std::size_t>(n);
            std::size_t body_start = size;
            if (!blob.empty()) {
                if (!in_body) {
                    std::string seen = header_tail + std::string(buffer.data(), size);
                    auto end = seen.find("\r\n\r\n");
                    if (end != std::string::npos) {
                        in_body = true;
                        body_start = end + 4 - header_tail.size();
                    } else {
                        header_tail = seen.substr(seen.size() > 3 ? seen.size() - 3 : 0);
                    }
                } else {
                    body_start = 0;
                }
                if (in_body && body_start < size) {
                    std::lock_guard guard(lock_);
                    if (blob == corrupt_digest_ && body_bytes == 0) buffer[body_start] ^= 0x5a;
                    std::size_t body_here = size - body_start;
                    if (blob == cut_digest_ && body_bytes + body_here >= cut_after_) {
                        // Forward up to the cut, then drop the connection.
                        std::size_t keep = body_start + (cut_after_ - body_bytes);
                        if (!cut_always_) cut_digest_.clear();
                        send_all(client, buffer.data(), keep);
                        break;
                    }
                    body_bytes += body_here;
                }
            }
            if (!send_all(client, buffer.data(), size)) break;
        }
    }
    ::close(client);
    ::close(server);
}

} // namespace registry_test
