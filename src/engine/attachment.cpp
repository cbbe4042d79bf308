// The command line's side of a monitor's control socket.
#include "attach_protocol.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/engine/engine.h"

#include <csignal>
#include <cstdlib>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace berth::engine {

namespace {

[[noreturn]] void throw_failed(const std::string& payload) {
    auto newline = payload.find('\n');
    int code = std::atoi(payload.substr(0, newline).c_str());
    throw StartError(newline == std::string::npos ? payload : payload.substr(newline + 1),
                     code ? code : 125);
}

[[noreturn]] void monitor_vanished() {
    throw StartError(
        "the container's monitor exited without a report (its monitor.log may say why)", 125);
}

} // namespace

int exit_code_for_start_failure(std::string_view message) {
    // The runtime's words for a command that cannot run, as runc's, which
    // Docker maps to 127 (not found) and 126 (found but not runnable).
    if (message.find("exec: \"") == std::string_view::npos) return 125;
    if (message.find("not found") != std::string_view::npos ||
        message.find("No such file or directory") != std::string_view::npos)
        return 127;
    return 126;
}

void Attachment::wait_started() {
    if (!socket_) return;
    for (;;) {
        Frame frame = receive_frame(socket_.get());
        if (frame.closed) monitor_vanished();
        if (frame.type == FrameType::started) return;
        if (frame.type == FrameType::failed) throw_failed(frame.payload);
    }
}

int Attachment::stream_until_exit() {
    if (!socket_) fail("not attached to the container");
    sigset_t forwarded, previous;
    sigemptyset(&forwarded);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
        sigaddset(&forwarded, signal);
    ::sigprocmask(SIG_BLOCK, &forwarded, &previous);
    UniqueFd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC));
    if (!signals) throw_errno("signalfd");
    struct RestoreMask {
        sigset_t mask;
        ~RestoreMask() { ::sigprocmask(SIG_SETMASK, &mask, nullptr); }
    } restore{previous};

    for (;;) {
        pollfd fds[2] = {{socket_.get(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("waiting for the container");
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info;
            if (::read(signals.get(), &info, sizeof info) == sizeof info)
                send_frame(socket_.get(), FrameType::signal, std::to_string(info.ssi_signo));
        }
        if (!fds[0].revents) continue;
        Frame frame = receive_frame(socket_.get());
        if (frame.closed) monitor_vanished();
        switch (frame.type) {
        case FrameType::stdout_data:
            write_all(STDOUT_FILENO, frame.payload, "standard output");
            break;
        case FrameType::stderr_data:
            write_all(STDERR_FILENO, frame.payload, "standard error");
            break;
        case FrameType::failed:
            throw_failed(frame.payload);
        case FrameType::exited: {
            // The monitor exits right after: wait for its end of the socket
            // to close, so that nothing of the container outlives `run`.
            while (!receive_frame(socket_.get()).closed) {
            }
            return std::atoi(frame.payload.c_str());
        }
        default:
            break;
        }
    }
}

} // namespace berth::engine
