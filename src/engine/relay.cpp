#include "relay.h"

#include "attach_protocol.h"
#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/base/unique_fd.h"
#include "stdin_relay.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::engine {

namespace {

using Clock = std::chrono::steady_clock;

// How long output may still arrive after the init exits: its pid namespace
// dies with it, so the pipes close at once unless something escaped.
constexpr auto drain_limit = std::chrono::seconds(2);

long milliseconds_until(Clock::time_point when) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(when - Clock::now()).count();
}

// The plan's fds are borrowed, never closed here, but for the stdin pipe
// (closed at the end of input) and a control socket that went away.
class Relay {
  public:
    explicit Relay(RelayPlan& plan);
    // Relays until the init has exited and its output is drained, or until
    // `until` (if given) while the init still runs: nullopt then, and the
    // plan brought up to date for whoever goes on (give_back).
    std::optional<RelayOutcome> watch(std::optional<Clock::time_point> until);

  private:
    // False if `until` came first.
    bool pump(std::optional<Clock::time_point> until);
    void give_back();
    void read_output(int fd, bool is_stderr, bool& open);
    void handle_control_frame();
    void accept_attach();
    void reap();
    void start_periodic_command();
    void forward(FrameType type, std::string_view data) {
        if (control_ >= 0 && !send_frame(control_, type, data)) close_control();
    }
    void close_control() {
        if (control_ >= 0) ::close(control_);
        control_ = -1;
    }

    RelayPlan& plan_;
    int stdout_, stderr_, console_;
    UniqueFd init_pidfd_;
    int control_;
    StdinRelay stdin_;
    std::optional<JsonLogWriter> log_;
    std::string buffer_;
    bool init_exited_ = false;
    int init_status_ = -1;
    Clock::time_point drain_deadline_{};
    pid_t periodic_pid_ = 0;
    UniqueFd periodic_pidfd_; // readable when it exits: reaped at once
    Clock::time_point next_periodic_{};
};

Relay::Relay(RelayPlan& plan)
    : plan_(plan), stdout_(plan.stdout_read), stderr_(plan.stderr_read), console_(plan.console),
      control_(plan.control) {
    if (plan_.stdin_write >= 0) stdin_ = StdinRelay(plan_.stdin_write, true);
    if (console_ >= 0) {
        ::fcntl(console_, F_SETFL, ::fcntl(console_, F_GETFL) | O_NONBLOCK);
        if (plan_.console_input) stdin_ = StdinRelay(console_, false);
    }
    init_pidfd_.reset(pidfd_open(plan_.init_pid));
    if (!plan_.log_path.empty()) {
        log_.emplace(plan_.log_path, plan_.log_rotation);
        log_->continue_line(false, plan_.unfinished_stdout);
        log_->continue_line(true, plan_.unfinished_stderr);
    }
    if (!plan_.periodic_command.empty())
        next_periodic_ = Clock::now() + std::chrono::milliseconds(plan_.periodic_interval_ms);
}

void Relay::read_output(int fd, bool is_stderr, bool& open) {
    ssize_t got = ::read(fd, buffer_.data(), buffer_.size());
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (got <= 0) {
        // A pty master reads EIO once every slave is closed.
        open = false;
        return;
    }
    std::string_view data(buffer_.data(), static_cast<std::size_t>(got));
    try {
        if (log_) log_->write(is_stderr, data);
    } catch (const Error& error) {
        std::fprintf(stderr, "berth monitor: %s\n", error.what());
    }
    forward(is_stderr ? FrameType::stderr_data : FrameType::stdout_data, data);
}

void Relay::reap() {
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == plan_.init_pid) {
            init_status_ = status;
            init_exited_ = true;
            drain_deadline_ = Clock::now() + drain_limit;
        } else if (pid == periodic_pid_) {
            periodic_pid_ = 0;
            periodic_pidfd_.reset();
        }
    }
    // Not our child (joined through an intermediate process) and gone.
    if (!init_exited_ && pid < 0 && errno == ECHILD) {
        pollfd gone{init_pidfd_.get(), POLLIN, 0};
        if (!init_pidfd_ || ::poll(&gone, 1, 0) > 0) {
            init_exited_ = true;
            drain_deadline_ = Clock::now() + drain_limit;
        }
    }
}

// The periodic command runs beside the container, its output discarded;
// what it does with its result (a health status in berth.db) is its own.
void Relay::start_periodic_command() {
    next_periodic_ = Clock::now() + std::chrono::milliseconds(plan_.periodic_interval_ms);
    if (periodic_pid_ > 0) return; // the last one still runs
    std::vector<char*> argv;
    for (auto& word : plan_.periodic_command)
        argv.push_back(word.data());
    argv.push_back(nullptr);
    pid_t child = ::fork();
    if (child == 0) {
        // Our fds are close-on-exec but for stdio (/dev/null and monitor.log).
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    if (child > 0) {
        periodic_pid_ = child;
        periodic_pidfd_.reset(pidfd_open(child));
    }
}

bool Relay::pump(std::optional<Clock::time_point> until) {
    bool stdout_open = stdout_ >= 0, stderr_open = stderr_ >= 0, console_open = console_ >= 0;
    while (stdout_open || stderr_open || console_open || !init_exited_) {
        pollfd fds[9];
        nfds_t count = 0;
        long timeout_ms = -1;
        if (stdout_open) fds[count++] = {stdout_, POLLIN, 0};
        if (stderr_open) fds[count++] = {stderr_, POLLIN, 0};
        if (console_open) fds[count++] = {console_, POLLIN, 0};
        if (!init_exited_ && init_pidfd_) fds[count++] = {init_pidfd_.get(), POLLIN, 0};
        // While input waits for room, no more is taken: the attached command
        // then waits too, and output keeps flowing meanwhile.
        if (stdin_.has_pending()) fds[count++] = {stdin_.fd(), POLLOUT, 0};
        if (control_ >= 0 && !stdin_.has_pending()) fds[count++] = {control_, POLLIN, 0};
        if (plan_.attach_listener >= 0) fds[count++] = {plan_.attach_listener, POLLIN, 0};
        if (periodic_pidfd_) fds[count++] = {periodic_pidfd_.get(), POLLIN, 0};
        if (!init_pidfd_ && !init_exited_) timeout_ms = 1000;
        if (!plan_.periodic_command.empty() && !init_exited_) {
            long due = std::max(0L, milliseconds_until(next_periodic_));
            timeout_ms = timeout_ms < 0 ? due : std::min(timeout_ms, due);
        }
        if (init_exited_) {
            long left = milliseconds_until(drain_deadline_);
            if (left <= 0) break;
            timeout_ms = timeout_ms < 0 ? left : std::min(timeout_ms, left);
        } else if (until) {
            // Input still queued is written first: it cannot be handed over.
            long left = std::max(0L, milliseconds_until(*until));
            if (left == 0 && !stdin_.has_pending()) return false;
            timeout_ms = timeout_ms < 0 ? left : std::min(timeout_ms, left);
        }
        int ready = ::poll(fds, count, static_cast<int>(timeout_ms));
        if (ready < 0 && errno != EINTR) throw_errno("waiting for the container");
        for (nfds_t i = 0; ready > 0 && i < count; ++i) {
            const pollfd& entry = fds[i];
            if (!entry.revents) continue;
            if (entry.events == POLLOUT) {
                // The stdin entry (a pty master also has an entry of its own for reading).
                stdin_.write_pending();
            } else if (entry.fd == stdout_ && stdout_open) {
                read_output(entry.fd, false, stdout_open);
            } else if (entry.fd == stderr_ && stderr_open) {
                read_output(entry.fd, true, stderr_open);
            } else if (entry.fd == console_ && console_open) {
                read_output(entry.fd, false, console_open);
            } else if (entry.fd == control_) {
                handle_control_frame();
            } else if (entry.fd == plan_.attach_listener) {
                accept_attach();
            }
        }
        reap();
        if (!plan_.periodic_command.empty() && !init_exited_ &&
            milliseconds_until(next_periodic_) <= 0)
            start_periodic_command();
    }
    if (log_) log_->flush();
    if (!init_exited_) {
        // Every output closed but no exit seen yet: wait for it.
        int status;
        while (::waitpid(plan_.init_pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (errno != ECHILD) init_status_ = status;
    }
    return true;
}

void Relay::handle_control_frame() {
    Frame frame = receive_frame(control_);
    if (frame.closed) {
        // The attached command went away (or detached): the container runs on, logged.
        close_control();
        return;
    }
    switch (frame.type) {
    case FrameType::signal:
        // Already exited: nothing to signal.
        if (init_pidfd_ && !init_exited_)
            pidfd_send_signal(init_pidfd_.get(), std::atoi(frame.payload.c_str()));
        break;
    case FrameType::stdin_data:
        stdin_.push(frame.payload);
        break;
    case FrameType::stdin_closed:
        stdin_.close_input();
        break;
    case FrameType::resize:
        if (console_ >= 0) {
            winsize size{};
            if (std::sscanf(frame.payload.c_str(), "%hu %hu", &size.ws_row, &size.ws_col) == 2)
                ::ioctl(console_, TIOCSWINSZ, &size);
        }
        break;
    default:
        break;
    }
}

// `berth attach`: one command at a time holds the container's stdio.
void Relay::accept_attach() {
    int fd = ::accept4(plan_.attach_listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (control_ >= 0) {
        send_frame(fd, FrameType::failed, "125\nanother command is attached to this container");
        ::close(fd);
        return;
    }
    control_ = fd;
}

std::optional<RelayOutcome> Relay::watch(std::optional<Clock::time_point> until) {
    auto started = Clock::now();
    buffer_.resize(max_frame_payload);
    bool finished = true;
    try {
        finished = pump(until);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: %s\n", error.what());
    }
    auto ran_ms =
        plan_.ran_before_ms +
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    if (!finished) {
        plan_.ran_before_ms = ran_ms;
        give_back();
        return std::nullopt;
    }
    // The init is reaped and its output drained (and logged, to the end).
    give_back();
    return RelayOutcome{init_status_, ran_ms, control_};
}

void Relay::give_back() {
    if (log_) {
        plan_.unfinished_stdout = log_->unfinished_line(false);
        plan_.unfinished_stderr = log_->unfinished_line(true);
    }
    // With a console, the relay's fd is the pty master, not the plan's pipe.
    int stdin_write = stdin_.release();
    if (!plan_.console_input) plan_.stdin_write = stdin_write;
    plan_.control = control_;
}

} // namespace

std::optional<RelayOutcome> relay_until(RelayPlan& plan, Clock::time_point deadline) {
    return Relay(plan).watch(deadline);
}

int run_relay(RelayPlan plan) {
    RelayOutcome outcome = *Relay(plan).watch(std::nullopt);
    std::vector<std::string> words = plan.exit_command;
    words.push_back("--status=" + std::to_string(outcome.wait_status));
    words.push_back("--ran-ms=" + std::to_string(outcome.ran_ms));
    words.push_back("--control=" + std::to_string(outcome.control));
    // Every other fd of the plan is close-on-exec: the exit command has no use for them.
    keep_across_exec(outcome.control);
    keep_across_exec(plan.attach_listener);
    exec_words(words);
    int error = errno;
    std::fprintf(stderr, "berth monitor: running %s: %s\n", words[0].c_str(), std::strerror(error));
    if (outcome.control >= 0) send_frame(outcome.control, FrameType::exited, "255");
    return 1;
}

} // namespace berth::engine
