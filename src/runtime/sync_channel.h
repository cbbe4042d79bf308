// The messages the runtime and the container's init pass over their socket
// pair while the container is set up. Errors raised in the child travel back
// as text, so the runtime can report them with their full context.
#pragma once

#include "berth/base/unique_fd.h"

#include <string>
#include <string_view>

namespace berth::runtime {

enum class SyncType : unsigned {
    init_pid,       // intermediate → runtime: the init's pid (text)
    go,             // runtime → init: ids mapped; text: the state JSON for hooks
    mounts_ready,   // init → runtime: time for prestart/createRuntime hooks
    hooks_done,     // runtime → init
    console_master, // init → runtime: the pty master (attached fd), text: its name
    created,        // init → runtime: set up, waiting for start
    error,          // either way: text is the error message
    peer_closed,    // not sent: receive_sync's answer when the other end closed
};

struct SyncMessage {
    SyncType type = SyncType::error;
    std::string text;
    UniqueFd fd; // set only for console_master
};

void send_sync(int socket_fd, SyncType type, std::string_view text = {}, int attached_fd = -1);

// Receives one message. A closed peer is reported as an error message saying
// the other side exited, so callers need one path for both.
SyncMessage receive_sync(int socket_fd);

// Receives and checks the type; an error message from the peer is rethrown.
SyncMessage expect_sync(int socket_fd, SyncType expected);

} // namespace berth::runtime
