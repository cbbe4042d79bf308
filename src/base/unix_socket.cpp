#include "berth/base/unix_socket.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>

namespace berth {

namespace {

// The address for `path`; one longer than sun_path holds goes through an fd
// of its directory, which `directory` keeps open while the address is used.
sockaddr_un address_of(const std::string& path, UniqueFd& directory, const std::string& what) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::string target = path;
    if (target.size() >= sizeof address.sun_path) {
        std::size_t slash = target.rfind('/');
        std::string parent = slash == std::string::npos ? "."
                             : slash == 0               ? "/"
                                                        : target.substr(0, slash);
        directory = open_fd(parent, O_PATH | O_DIRECTORY);
        target = "/proc/self/fd/" + std::to_string(directory.get()) + "/" +
                 target.substr(slash == std::string::npos ? 0 : slash + 1);
        if (target.size() >= sizeof address.sun_path)
            fail(what + ": the socket's name is too long for a unix socket address");
    }
    std::memcpy(address.sun_path, target.c_str(), target.size() + 1);
    return address;
}

} // namespace

UniqueFd connect_unix(const std::string& path, const std::string& what, int type) {
    int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_errno(what);
    UniqueFd socket_fd(fd);
    UniqueFd directory;
    sockaddr_un address = address_of(path, directory, what);
    int result;
    do {
        result = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    } while (result < 0 && errno == EINTR);
    if (result < 0) throw_errno(what);
    return socket_fd;
}

UniqueFd listen_unix(const std::string& path, const std::string& what, int type) {
    int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_errno(what);
    UniqueFd socket_fd(fd);
    UniqueFd directory;
    sockaddr_un address = address_of(path, directory, what);
    ::unlink(path.c_str());
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0 ||
        ::listen(fd, 8) < 0)
        throw_errno(what);
    return socket_fd;
}

void send_all_with_fd(int socket_fd, std::string_view message, int fd, const std::string& what) {
    std::size_t sent = 0;
    // The fd rides with the first byte, as a reader of a stream socket expects.
    while (sent < message.size()) {
        long n = send_with_fd(socket_fd, message.substr(sent), sent == 0 ? fd : -1);
        if (n < 0) throw_errno(what);
        sent += static_cast<std::size_t>(n);
    }
}

long send_with_fd(int socket_fd, std::string_view payload, int fd) {
    iovec io{const_cast<char*>(payload.data()), payload.size()};
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd >= 0) {
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    long sent;
    do {
        sent = ::sendmsg(socket_fd, &message, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent;
}

UniqueFd receive_fd(int socket_fd, const std::string& what) {
    char data[256];
    iovec io{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    long got;
    do {
        got = ::recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    if (got < 0) throw_errno(what);
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header;
         header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
            return UniqueFd(fd);
        }
    }
    fail(what + ": no file descriptor came with the message");
}

} // namespace berth
