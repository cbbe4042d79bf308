// Handing the notify fd to the seccomp agent, as the runtime spec's
// "container process state" over listenerPath.
#include "berth/runtime/seccomp.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/base/unique_fd.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace berth::runtime::seccomp {

namespace {

// The runtime-spec release whose containerProcessState this message follows.
constexpr const char* process_state_version = "1.2.0";

std::string process_state(const std::string& state_json, const std::string& metadata) {
    nlohmann::json state = nlohmann::json::parse(state_json, nullptr, false);
    if (state.is_discarded() || !state.is_object())
        fail("the container state to send is not a JSON object");
    auto pid = state.find("pid");
    if (pid == state.end() || !pid->is_number_integer() || pid->get<long long>() <= 0)
        fail("the container state to send has no \"pid\" of the container's process");
    nlohmann::ordered_json message;
    message["ociVersion"] = process_state_version;
    message["fds"] = {"seccompFd"};
    message["pid"] = *pid;
    if (!metadata.empty()) message["metadata"] = metadata;
    message["state"] = state;
    return message.dump();
}

// connect(2) to a path that may be longer than sun_path holds: a long one is
// reached through an fd of its directory.
void connect_unix(int socket_fd, const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    UniqueFd directory;
    std::string target = path;
    if (target.size() >= sizeof address.sun_path) {
        std::size_t slash = target.rfind('/');
        std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : target.substr(0, slash);
        directory = open_fd(parent, O_PATH | O_DIRECTORY);
        target = "/proc/self/fd/" + std::to_string(directory.get()) + "/" +
                 target.substr(slash == std::string::npos ? 0 : slash + 1);
        if (target.size() >= sizeof address.sun_path)
            fail("the socket's name is too long for a unix socket address");
    }
    std::memcpy(address.sun_path, target.c_str(), target.size() + 1);
    int result;
    do {
        result = ::connect(socket_fd, reinterpret_cast<const sockaddr*>(&address),
                           sizeof address);
    } while (result < 0 && errno == EINTR);
    if (result < 0) throw_errno("connecting");
}

// The whole message; the fd rides with its first byte, as the spec asks of a
// message sent in several calls.
void send_with_fd(int socket_fd, const std::string& message, int fd) {
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    std::size_t sent = 0;
    while (sent < message.size()) {
        iovec data{const_cast<char*>(message.data() + sent), message.size() - sent};
        msghdr header{};
        header.msg_iov = &data;
        header.msg_iovlen = 1;
        if (sent == 0) {
            header.msg_control = control;
            header.msg_controllen = sizeof control;
            cmsghdr* rights = CMSG_FIRSTHDR(&header);
            rights->cmsg_level = SOL_SOCKET;
            rights->cmsg_type = SCM_RIGHTS;
            rights->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(rights), &fd, sizeof(int));
        }
        ssize_t n = ::sendmsg(socket_fd, &header, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("sending the container process state");
        sent += static_cast<std::size_t>(n);
    }
}

} // namespace

void send_notify_fd(const std::string& listener_path, int notify_fd,
                    const std::string& state_json, const std::string& metadata) {
    with_context("handing the seccomp notify fd to the agent at " + listener_path, [&] {
        std::string message = process_state(state_json, metadata);
        UniqueFd socket_fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!socket_fd) throw_errno("creating a unix socket");
        connect_unix(socket_fd.get(), listener_path);
        send_with_fd(socket_fd.get(), message, notify_fd);
        // One state per connection, then closed: the close is how the agent
        // knows the message is complete.
    });
}

} // namespace berth::runtime::seccomp
