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

class Relay {
  public:
    explicit Relay(RelayPlan plan);
    int run();

  private:
    void pump();
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

    RelayPlan plan_;
    UniqueFd stdout_, stderr_, console_, init_pidfd_;
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

Relay::Relay(RelayPlan plan)
    : plan_(std::move(plan)), stdout_(plan_.stdout_read), stderr_(plan_.stderr_read),
      console_(plan_.console), control_(plan_.control) {
    if (plan_.stdin_write >= 0) stdin_ = StdinRelay(plan_.stdin_write, true);
    if (console_) {
        ::fcntl(console_.get(), F_SETFL, ::fcntl(console_.get(), F_GETFL) | O_NONBLOCK);
        if (plan_.console_input) stdin_ = StdinRelay(console_.get(), false);
    }
    init_pidfd_.reset(pidfd_open(plan_.init_pid));
    if (!plan_.log_path.empty()) log_.emplace(plan_.log_path, plan_.log_rotation);
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

void Relay::pump() {
    bool stdout_open = static_cast<bool>(stdout_), stderr_open = static_cast<bool>(stderr_);
    bool console_open = static_cast<bool>(console_);
    while (stdout_open || stderr_open || console_open || !init_exited_) {
        pollfd fds[9];
        nfds_t count = 0;
        long timeout_ms = -1;
        if (stdout_open) fds[count++] = {stdout_.get(), POLLIN, 0};
        if (stderr_open) fds[count++] = {stderr_.get(), POLLIN, 0};
        if (console_open) fds[count++] = {console_.get(), POLLIN, 0};
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
        }
        int ready = ::poll(fds, count, static_cast<int>(timeout_ms));
        if (ready < 0 && errno != EINTR) throw_errno("waiting for the container");
        for (nfds_t i = 0; ready > 0 && i < count; ++i) {
            const pollfd& entry = fds[i];
            if (!entry.revents) continue;
            if (entry.events == POLLOUT) {
                // The stdin entry (a pty master also has an entry of its own for reading).
                stdin_.write_pending();
            } else if (entry.fd == stdout_.get() && stdout_open) {
                read_output(entry.fd, false, stdout_open);
            } else if (entry.fd == stderr_.get() && stderr_open) {
                read_output(entry.fd, true, stderr_open);
            } else if (entry.fd == console_.get() && console_open) {
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
        if (console_) {
            winsize size{};
            if (std::sscanf(frame.payload.c_str(), "%hu %hu", &size.ws_row, &size.ws_col) == 2)
                ::ioctl(console_.get(), TIOCSWINSZ, &size);
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

int Relay::run() {
    auto started = Clock::now();
    buffer_.resize(max_frame_payload);
    try {
        pump();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: %s\n", error.what());
    }
    // Output from here on has nowhere to go; the init is reaped.
    log_.reset();
    stdout_.reset();
    stderr_.reset();
    stdin_ = StdinRelay();
    console_.reset();
    init_pidfd_.reset();
    auto ran_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    std::vector<std::string> words = plan_.exit_command;
    words.push_back("--status=" + std::to_string(init_status_));
    words.push_back("--ran-ms=" + std::to_string(ran_ms));
    words.push_back("--control=" + std::to_string(control_));
    keep_across_exec(control_);
    keep_across_exec(plan_.attach_listener);
    exec_words(words);
    int error = errno;
    std::fprintf(stderr, "berth monitor: running %s: %s\n", words[0].c_str(), std::strerror(error));
    forward(FrameType::exited, "255");
    return 1;
}

} // namespace

int run_relay(RelayPlan plan) {
    return Relay(std::move(plan)).run();
}

} // namespace berth::engine
