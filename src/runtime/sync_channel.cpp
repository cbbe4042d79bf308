#include "sync_channel.h"

#include "berth/base/error.h"
#include "berth/base/unix_socket.h"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <vector>

namespace berth::runtime {

namespace {

constexpr std::size_t max_message = 65536;

struct Header {
    SyncType type;
};

} // namespace

void send_sync(int socket_fd, SyncType type, std::string_view text, int attached_fd) {
    std::string buffer(sizeof(Header), '\0');
    Header header{type};
    std::memcpy(buffer.data(), &header, sizeof header);
    buffer.append(text.substr(0, max_message - sizeof(Header)));

    long sent = send_with_fd(socket_fd, buffer, attached_fd);
    if (sent < 0) throw_errno("sending to the container's setup process");
}

SyncMessage receive_sync(int socket_fd) {
    std::vector<char> buffer(max_message);
    iovec io{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t received;
    do {
        received = ::recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC);
    } while (received < 0 && errno == EINTR);

    SyncMessage result;
    if (received == 0) {
        result.type = SyncType::peer_closed;
        result.text = "the container's setup process exited unexpectedly";
        return result;
    }
    if (received < static_cast<ssize_t>(sizeof(Header))) {
        result.type = SyncType::error;
        result.text = received < 0 ? std::string("lost contact with the container's setup: ") +
                                         std::strerror(errno)
                                   : "the container's setup process exited unexpectedly";
        return result;
    }
    Header header;
    std::memcpy(&header, buffer.data(), sizeof header);
    result.type = header.type;
    result.text.assign(buffer.data() + sizeof header,
                       static_cast<std::size_t>(received) - sizeof header);
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&message); cmsg; cmsg = CMSG_NXTHDR(&message, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
            result.fd.reset(fd);
        }
    }
    return result;
}

SyncMessage expect_sync(int socket_fd, SyncType expected) {
    SyncMessage message = receive_sync(socket_fd);
    if (message.type == SyncType::error || message.type == SyncType::peer_closed)
        throw Error(message.text);
    if (message.type != expected) fail("container setup: unexpected message from peer");
    return message;
}

} // namespace berth::runtime
