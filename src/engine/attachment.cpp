// The command line's side of a monitor's control socket.
#include "attach_protocol.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/engine/engine.h"
#include "berth/runtime/cgroups.h"

#include <csignal>
#include <cstdlib>
#include <optional>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>
#include <utility>

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
    // crun's own words: "executable file `X` not found in $PATH", "open executable".
    bool from_crun = message.find("executable file `") != std::string_view::npos ||
                     message.find("open executable") != std::string_view::npos;
    if (message.find("exec: \"") == std::string_view::npos && !from_crun) return 125;
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
        if (frame.type == FrameType::started) {
            runtime::cgroups::stop_warming_moves(); // the init is in its cgroup
            return;
        }
        if (frame.type == FrameType::failed) throw_failed(frame.payload);
    }
}

namespace {

// This terminal in raw mode while attached to a container's terminal, so
// that every key (Ctrl-C too) reaches the container; restored at the end.
class RawTerminal {
  public:
    explicit RawTerminal(bool wanted) {
        if (!wanted || ::tcgetattr(STDIN_FILENO, &saved_) < 0) return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    ~RawTerminal() {
        if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

  private:
    termios saved_{};
    bool active_ = false;
};

std::string terminal_size() {
    winsize size{};
    for (int fd : {STDIN_FILENO, STDOUT_FILENO})
        if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_row && size.ws_col)
            return std::to_string(size.ws_row) + " " + std::to_string(size.ws_col);
    return {};
}

// Docker's detach keys, Ctrl-P Ctrl-Q. A Ctrl-P is held back until the
// next byte shows whether it starts the sequence.
class DetachKeys {
  public:
    // The bytes to pass on; sets `detach` when the sequence is complete.
    std::string filter(std::string_view input, bool& detach) {
        std::string out;
        for (char c : input) {
            if (held_) {
                held_ = false;
                if (c == ctrl_q) {
                    detach = true;
                    return out;
                }
                out.push_back(ctrl_p);
            }
            if (c == ctrl_p)
                held_ = true;
            else
                out.push_back(c);
        }
        return out;
    }

  private:
    static constexpr char ctrl_p = 0x10, ctrl_q = 0x11;
    bool held_ = false;
};

} // namespace

int Attachment::stream_until_exit(const StreamOptions& options) {
    if (!socket_) fail("not attached to the container");
    sigset_t forwarded, previous;
    sigemptyset(&forwarded);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH})
        sigaddset(&forwarded, signal);
    ::sigprocmask(SIG_BLOCK, &forwarded, &previous);
    UniqueFd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC));
    if (!signals) throw_errno("signalfd");
    struct RestoreMask {
        sigset_t mask;
        ~RestoreMask() { ::sigprocmask(SIG_SETMASK, &mask, nullptr); }
    } restore{previous};

    bool stdin_is_terminal = ::isatty(STDIN_FILENO);
    RawTerminal raw(options.tty && options.forward_stdin && stdin_is_terminal);
    if (options.tty) {
        std::string size = terminal_size();
        if (!size.empty()) send_frame(socket_.get(), FrameType::resize, size);
    }
    bool reading_stdin = options.forward_stdin;
    DetachKeys detach_keys;
    // One frame at a time waits for room on the socket; stdin is not read meanwhile.
    std::optional<std::pair<FrameType, std::string>> outgoing;
    std::string input(max_frame_payload, '\0');

    for (;;) {
        pollfd fds[3] = {{socket_.get(), static_cast<short>(POLLIN | (outgoing ? POLLOUT : 0)), 0},
                         {signals.get(), POLLIN, 0},
                         {reading_stdin && !outgoing ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("waiting for the container");
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info;
            if (::read(signals.get(), &info, sizeof info) == sizeof info) {
                if (info.ssi_signo == SIGWINCH) {
                    if (options.tty) send_frame(socket_.get(), FrameType::resize, terminal_size());
                } else {
                    send_frame(socket_.get(), FrameType::signal, std::to_string(info.ssi_signo));
                }
            }
        }
        if (fds[2].revents) {
            ssize_t got = ::read(STDIN_FILENO, input.data(), input.size());
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
            } else if (got <= 0) {
                reading_stdin = false;
                outgoing.emplace(FrameType::stdin_closed, std::string());
            } else {
                std::string_view data(input.data(), static_cast<std::size_t>(got));
                bool detach = false;
                std::string passed = options.tty && stdin_is_terminal
                                         ? detach_keys.filter(data, detach)
                                         : std::string(data);
                if (!passed.empty()) outgoing.emplace(FrameType::stdin_data, std::move(passed));
                if (detach) return 0;
            }
        }
        if (outgoing) {
            SendStatus status = try_send_frame(socket_.get(), outgoing->first, outgoing->second);
            if (status != SendStatus::busy) outgoing.reset();
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Frame frame = receive_frame(socket_.get());
        if (frame.closed) monitor_vanished();
        switch (frame.type) {
        case FrameType::stdout_data:
            write_all(STDOUT_FILENO, frame.payload, "standard output");
            break;
        case FrameType::stderr_data:
            write_all(STDERR_FILENO, frame.payload, "standard error");
            break;
        case FrameType::started:
            runtime::cgroups::stop_warming_moves(); // the init is in its cgroup
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
