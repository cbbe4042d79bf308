// Between a container's monitor and the command that started it: one
// SOCK_SEQPACKET message per frame, a type byte and its payload, so output
// chunks, the start report and the exit code never run into each other.
#pragma once

#include <string>
#include <string_view>

namespace berth::engine {

enum class FrameType : char {
    prepare = 'g', // CLI -> pending monitor: what to make early (monitor.h's EarlyWork)
    plan = 'p',    // CLI -> monitor: its plan (monitor.h), words each ended by '\0'
    started = 's', // monitor -> CLI: the container runs
    failed = 'f',  // monitor -> CLI: "<exit code>\n<message>", the start failed
    stdout_data = 'o',
    stderr_data = 'e',
    exited = 'x',       // monitor -> CLI: "<exit code>", after cleanup
    signal = 'k',       // CLI -> monitor: "<signal number>" to pass to the container
    stdin_data = 'i',   // CLI -> monitor: bytes for the container's standard input
    stdin_closed = 'c', // CLI -> monitor: its standard input ended
    resize = 'w',       // CLI -> monitor: "<rows> <columns>" of its terminal
};

// False if the peer is gone (never raises SIGPIPE).
bool send_frame(int socket_fd, FrameType type, std::string_view payload);

enum class SendStatus { sent, busy, closed };
// send_frame that never waits: `busy` when the socket has no room yet.
SendStatus try_send_frame(int socket_fd, FrameType type, std::string_view payload);

struct Frame {
    bool closed = false; // the peer closed its end
    FrameType type = FrameType::started;
    std::string payload;
};

// Blocks for the next frame.
Frame receive_frame(int socket_fd);

// Largest payload of one frame: well under the socket's send buffer.
inline constexpr std::size_t max_frame_payload = 32 * 1024;

} // namespace berth::engine
