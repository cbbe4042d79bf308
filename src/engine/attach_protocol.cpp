#include "attach_protocol.h"

#include "berth/base/error.h"

#include <cerrno>
#include <sys/socket.h>

namespace berth::engine {

namespace {

SendStatus send_message(int socket_fd, FrameType type, std::string_view payload, int flags) {
    std::string message;
    message.reserve(payload.size() + 1);
    message.push_back(static_cast<char>(type));
    message.append(payload);
    for (;;) {
        if (::send(socket_fd, message.data(), message.size(), MSG_NOSIGNAL | flags) >= 0)
            return SendStatus::sent;
        if (errno == EINTR) continue;
        return errno == EAGAIN ? SendStatus::busy : SendStatus::closed;
    }
}

} // namespace

bool send_frame(int socket_fd, FrameType type, std::string_view payload) {
    return send_message(socket_fd, type, payload, 0) == SendStatus::sent;
}

SendStatus try_send_frame(int socket_fd, FrameType type, std::string_view payload) {
    return send_message(socket_fd, type, payload, MSG_DONTWAIT);
}

Frame receive_frame(int socket_fd) {
    std::string buffer(max_frame_payload + 1, '\0');
    for (;;) {
        ssize_t got = ::recv(socket_fd, buffer.data(), buffer.size(), 0);
        if (got < 0 && errno == EINTR) continue;
        // A peer that closed with frames of ours unread (the monitor's exit
        // command never reads the stdin_closed an attached run sent last)
        // resets the socket: the kernel reports that before the frames the
        // peer sent first (its exit code). Reported once: read on.
        if (got < 0 && errno == ECONNRESET) continue;
        if (got < 0) throw_errno("reading from the container's monitor");
        Frame frame;
        if (got == 0) {
            frame.closed = true;
            return frame;
        }
        frame.type = static_cast<FrameType>(buffer[0]);
        frame.payload = buffer.substr(1, static_cast<std::size_t>(got) - 1);
        return frame;
    }
}

} // namespace berth::engine
