#include "monitor.h"

#include "attach_protocol.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/unix_socket.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/identity.h"
#include "berth/engine/json_log.h"
#include "berth/engine/restart_policy.h"
#include "container_network.h"
#include "container_runtime.h"
#include "periodic_command.h"
#include "process_identity.h"
#include "stdin_relay.h"
#include "teardown.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace berth::engine {

namespace {

using Clock = std::chrono::steady_clock;

// How long output may still arrive after the init exits: its pid namespace
// dies with it, so the pipes close at once unless something escaped.
constexpr auto drain_limit = std::chrono::seconds(2);

// Closes every fd but stdio and `keep`: an inherited fd could hold a lock
// (the image store's) or a pipe open for as long as the container runs.
void close_other_fds(const std::vector<int>& keep) {
    std::vector<int> open;
    if (DIR* fds = ::opendir("/proc/self/fd")) {
        while (dirent* entry = ::readdir(fds)) {
            int fd = std::atoi(entry->d_name);
            if (entry->d_name[0] != '.' && fd > 2 && fd != ::dirfd(fds)) open.push_back(fd);
        }
        ::closedir(fds);
    }
    for (int fd : open)
        if (std::find(keep.begin(), keep.end(), fd) == keep.end()) ::close(fd);
}

void reset_signals() {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal = 1; signal < NSIG; ++signal)
        if (signal != SIGKILL && signal != SIGSTOP) ::signal(signal, SIG_DFL);
    // A vanished attached command must not kill the monitor.
    ::signal(SIGPIPE, SIG_IGN);
}

void redirect(int from, int to) {
    if (::dup2(from, to) < 0) throw_errno("redirecting the monitor's stdio");
}

RunRequest request_of(const ContainerRecord& record) {
    return run_request_from_json(nlohmann::json::parse(record.config_json, nullptr, false));
}

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

class Monitor {
  public:
    Monitor(const MonitorPlan& plan, int control)
        : plan_(plan), control_(control),
          runtime_(open_container_runtime(run_root_of(plan.runtime_root), plan.runtime)),
          database_(plan.database_path), containers_(database_) {}

    int run();

  private:
    // Records a failed start, tells the starter, and cleans up.
    int fail_start(const std::string& message);
    // Stdio pipes, then the runtime's create and start; throws on failure.
    void start_container();
    bool stopped_by_user() const;
    // False if the user stopped the container meanwhile.
    bool sleep_unless_stopped(std::chrono::milliseconds delay);
    void close_control() {
        if (control_ >= 0) ::close(control_);
        control_ = -1;
    }
    void pump_output();
    void handle_control_frame();
    void accept_attach();
    void finish(int exit_code);
    void forward(FrameType type, std::string_view data) {
        if (control_ >= 0 && !send_frame(control_, type, data)) control_ = -1;
    }

    MonitorPlan plan_;
    int control_;
    std::unique_ptr<ContainerRuntime> runtime_;
    image::Database database_;
    ContainerStore containers_;
    UniqueFd devnull_, diagnostics_, stdout_read_, stderr_read_, init_pidfd_;
    UniqueFd console_;         // the pty master, with a terminal
    UniqueFd attach_listener_; // where `berth attach` connects
    StdinRelay stdin_;
    PeriodicCommand health_check_; // `berth healthcheck run` every interval
    pid_t init_pid_ = 0;
    int init_status_ = -1;
};

int Monitor::fail_start(const std::string& message) {
    int code = exit_code_for_start_failure(message);
    std::fprintf(stderr, "berth monitor: start failed: %s\n", message.c_str());
    if (attach_listener_) {
        attach_listener_.reset();
        ::unlink(plan_.attach_socket.c_str());
    }
    try {
        ContainerRecord record = containers_.get(plan_.id);
        // Docker keeps a container that never ran "created", with the code.
        record.state = record.started.empty() ? ContainerState::created : ContainerState::exited;
        record.exit_code = code;
        record.error = message;
        record.pid = 0;
        record.monitor_pid = 0;
        record.monitor_start_time = 0;
        containers_.update_state(record);
        if (plan_.auto_remove) {
            empty_trash(delete_container_files(database_, plan_.runtime_root, plan_.id,
                                               plan_.container_dir));
            containers_.remove(plan_.id);
            remove_anonymous_volumes(database_, plan_.root, request_of(record));
        } else {
            release_container(database_, plan_.runtime_root, plan_.id, plan_.container_dir);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: cleaning up after the failed start: %s\n",
                     error.what());
    }
    forward(FrameType::failed, std::to_string(code) + "\n" + message);
    return 1;
}

int Monitor::run() {
    devnull_ = open_fd("/dev/null", O_RDWR);
    diagnostics_ =
        open_fd(plan_.container_dir + "/monitor.log", O_WRONLY | O_CREAT | O_APPEND, 0640);
    redirect(devnull_.get(), STDIN_FILENO);
    redirect(devnull_.get(), STDOUT_FILENO);
    redirect(diagnostics_.get(), STDERR_FILENO);

    ContainerRecord record = containers_.get(plan_.id);
    record.monitor_pid = ::getpid();
    record.monitor_start_time = process_start_time(::getpid());
    record.error.clear();
    containers_.update_state(record);
    const RestartPolicy policy = request_of(record).options.restart;
    health_check_ = healthcheck_schedule(plan_.root, run_root_of(plan_.runtime_root), plan_.id,
                                         request_of(record));
    if (!plan_.attach_socket.empty()) {
        try {
            attach_listener_ =
                listen_unix(plan_.attach_socket, "listening for attach at " + plan_.attach_socket,
                            SOCK_SEQPACKET);
        } catch (const std::exception& error) {
            return fail_start(error.what());
        }
    }

    std::chrono::milliseconds delay{0};
    for (bool first = true;; first = false) {
        try {
            start_container();
        } catch (const std::exception& error) {
            return fail_start(error.what());
        }
        auto started_at = Clock::now();
        health_check_.restart();
        if (first) {
            forward(FrameType::started, {});
            // A detached starter has gone; output then only goes to the log.
            if (!plan_.attach) close_control();
        }
        pump_output();
        int code = init_status_ < 0 ? 255 : exit_code_of(init_status_);
        record = containers_.get(plan_.id);
        if (!should_restart(policy, code, record.restart_count, stopped_by_user())) {
            finish(code);
            return 0;
        }
        // The runtime's state and the network wiring go; the rootfs stays
        // mounted for the next run.
        try {
            runtime_->remove(plan_.id, true);
            disconnect_container(database_, run_root_of(plan_.runtime_root), plan_.id);
        } catch (const std::exception& error) {
            std::fprintf(stderr, "berth monitor: before restarting: %s\n", error.what());
        }
        record.state = ContainerState::restarting;
        record.exit_code = code;
        record.finished = now_rfc3339_nano();
        record.pid = 0;
        containers_.update_state(record);
        // An attached `run` ends with the first exit, as Docker's does.
        forward(FrameType::exited, std::to_string(code));
        close_control();
        delay = next_restart_delay(delay, std::chrono::duration_cast<std::chrono::milliseconds>(
                                              Clock::now() - started_at));
        if (!sleep_unless_stopped(delay)) {
            finish(code);
            return 0;
        }
        record = containers_.get(plan_.id);
        ++record.restart_count;
        containers_.update_state(record);
    }
}

bool Monitor::stopped_by_user() const {
    return path_exists(stop_marker_path(plan_.container_dir));
}

bool Monitor::sleep_unless_stopped(std::chrono::milliseconds delay) {
    // In slices, so that a `stop` during the backoff is seen at once.
    auto deadline = Clock::now() + delay;
    while (Clock::now() < deadline) {
        if (stopped_by_user()) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        ::usleep(static_cast<useconds_t>(std::min<long>(left.count(), 20) * 1000));
    }
    return !stopped_by_user();
}

void Monitor::start_container() {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) < 0) throw_errno("creating the container's stdio pipes");
    stdout_read_.reset(out[0]);
    UniqueFd stdout_write(out[1]);
    if (::pipe2(err, O_CLOEXEC) < 0) throw_errno("creating the container's stdio pipes");
    stderr_read_.reset(err[0]);
    UniqueFd stderr_write(err[1]);
    UniqueFd stdin_read;
    stdin_ = StdinRelay();
    console_.reset();
    if (plan_.interactive && !plan_.tty) {
        int in[2];
        if (::pipe2(in, O_CLOEXEC) < 0) throw_errno("creating the container's stdin pipe");
        stdin_read.reset(in[0]);
        stdin_ = StdinRelay(in[1], true);
    }
    init_status_ = -1;

    // Left over from a monitor that was killed: the new create needs the id.
    runtime_->remove(plan_.id, true);
    // The init inherits stdio: the container's output goes into our pipes
    // (with a terminal, its pty replaces them).
    if (stdin_read) redirect(stdin_read.get(), STDIN_FILENO);
    redirect(stdout_write.get(), STDOUT_FILENO);
    redirect(stderr_write.get(), STDERR_FILENO);
    auto restore_stdio = [&] {
        redirect(devnull_.get(), STDIN_FILENO);
        redirect(devnull_.get(), STDOUT_FILENO);
        redirect(diagnostics_.get(), STDERR_FILENO);
    };
    try {
        console_ = runtime_->create(plan_.id, plan_.container_dir, plan_.tty);
    } catch (...) {
        restore_stdio();
        throw;
    }
    // Only the init may hold the pipes' other ends now, so its exit is our EOF.
    restore_stdio();
    stdin_read.reset();
    stdout_write.reset();
    stderr_write.reset();
    if (console_) {
        // Read in the same poll loop as everything else.
        ::fcntl(console_.get(), F_SETFL, ::fcntl(console_.get(), F_GETFL) | O_NONBLOCK);
        if (plan_.interactive) stdin_ = StdinRelay(console_.get(), false);
    }

    init_pid_ = runtime_->state(plan_.id).pid;
    init_pidfd_.reset(pidfd_open(init_pid_));
    if (!init_pidfd_) throw_errno("watching the container's init");
    ContainerRecord record = containers_.get(plan_.id);
    // Between create and start, as OCI means it: the init waits in its new
    // network namespace while berth wires it (veth, address, routes, ports).
    connect_container(database_, run_root_of(plan_.database_path), run_root_of(plan_.runtime_root),
                      record, run_request_from_json(nlohmann::json::parse(record.config_json)),
                      plan_.container_dir, init_pid_);
    record = containers_.get(plan_.id);
    record.state = ContainerState::running;
    record.pid = init_pid_;
    record.exit_code = 0;
    record.started = now_rfc3339_nano();
    containers_.update_state(record);
    runtime_->start(plan_.id);
}

void Monitor::pump_output() {
    std::optional<JsonLogWriter> log;
    if (plan_.keep_log)
        log.emplace(plan_.container_dir + "/" + plan_.id + "-json.log", plan_.log_rotation);
    bool stdout_open = true, stderr_open = true, init_exited = false;
    Clock::time_point drain_deadline{};
    std::string buffer(max_frame_payload, '\0');

    auto reap = [&] {
        int status;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
            if (pid == init_pid_) {
                init_status_ = status;
                init_exited = true;
                drain_deadline = Clock::now() + drain_limit;
            }
        // Not our child (joined through an intermediate process) and gone.
        if (!init_exited && pid < 0 && errno == ECHILD) {
            pollfd gone{init_pidfd_.get(), POLLIN, 0};
            if (::poll(&gone, 1, 0) > 0) {
                init_exited = true;
                drain_deadline = Clock::now() + drain_limit;
            }
        }
    };

    bool console_open = static_cast<bool>(console_);
    while (stdout_open || stderr_open || console_open || !init_exited) {
        std::vector<pollfd> fds;
        int timeout_ms = health_check_.ms_until_due(1000);
        if (stdout_open) fds.push_back({stdout_read_.get(), POLLIN, 0});
        if (stderr_open) fds.push_back({stderr_read_.get(), POLLIN, 0});
        if (console_open) fds.push_back({console_.get(), POLLIN, 0});
        if (!init_exited) fds.push_back({init_pidfd_.get(), POLLIN, 0});
        // While input waits for room, no more is taken: the attached command
        // then waits too, and output keeps flowing meanwhile.
        if (stdin_.has_pending()) fds.push_back({stdin_.fd(), POLLOUT, 0});
        if (control_ >= 0 && !stdin_.has_pending()) fds.push_back({control_, POLLIN, 0});
        if (attach_listener_) fds.push_back({attach_listener_.get(), POLLIN, 0});
        if (init_exited) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(drain_deadline -
                                                                              Clock::now());
            if (left.count() <= 0) break;
            timeout_ms = static_cast<int>(left.count());
        }
        int ready = ::poll(fds.data(), fds.size(), timeout_ms);
        if (ready < 0 && errno != EINTR) throw_errno("waiting for the container");
        for (const auto& entry : fds) {
            if (!entry.revents) continue;
            if (entry.events == POLLOUT) {
                // The stdin entry (a pty master also has an entry of its own for reading).
                stdin_.write_pending();
                continue;
            }
            if (entry.fd == stdout_read_.get() || entry.fd == stderr_read_.get() ||
                (console_open && entry.fd == console_.get())) {
                if (!(entry.revents & (POLLIN | POLLHUP | POLLERR))) continue;
                bool is_stderr = entry.fd == stderr_read_.get();
                bool is_console = entry.fd == console_.get();
                ssize_t got = ::read(entry.fd, buffer.data(), buffer.size());
                if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                if (got <= 0) {
                    // A pty master reads EIO once every slave is closed.
                    (is_console ? console_open : is_stderr ? stderr_open : stdout_open) = false;
                    continue;
                }
                std::string_view data(buffer.data(), static_cast<std::size_t>(got));
                try {
                    if (log) log->write(is_stderr, data);
                } catch (const Error& error) {
                    std::fprintf(stderr, "berth monitor: %s\n", error.what());
                }
                forward(is_stderr ? FrameType::stderr_data : FrameType::stdout_data, data);
            } else if (entry.fd == control_) {
                handle_control_frame();
            } else if (entry.fd == attach_listener_.get()) {
                accept_attach();
            }
        }
        reap();
        if (!init_exited) health_check_.run_if_due();
    }
    if (log) log->flush();
    if (!init_exited) {
        // Both pipes closed but no exit seen yet: wait for it.
        int status;
        if (::waitpid(init_pid_, &status, 0) == init_pid_) init_status_ = status;
    }
}

void Monitor::handle_control_frame() {
    Frame frame = receive_frame(control_);
    if (frame.closed) {
        // The attached command went away (or detached): the container runs on, logged.
        ::close(control_);
        control_ = -1;
        return;
    }
    switch (frame.type) {
    case FrameType::signal:
        try {
            runtime_->kill(plan_.id, std::atoi(frame.payload.c_str()));
        } catch (const Error&) {
            // Already exited: nothing to signal.
        }
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
void Monitor::accept_attach() {
    int fd = ::accept4(attach_listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (control_ >= 0) {
        send_frame(fd, FrameType::failed, "125\nanother command is attached to this container");
        ::close(fd);
        return;
    }
    control_ = fd;
}

void Monitor::finish(int exit_code) {
    std::string trash;
    if (attach_listener_) {
        attach_listener_.reset();
        ::unlink(plan_.attach_socket.c_str());
    }
    try {
        release_container(database_, plan_.runtime_root, plan_.id, plan_.container_dir);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: releasing the container: %s\n", error.what());
    }
    try {
        ContainerRecord record = containers_.get(plan_.id);
        record.state = ContainerState::exited;
        record.exit_code = exit_code;
        record.finished = now_rfc3339_nano();
        record.pid = 0;
        record.monitor_pid = 0;
        record.monitor_start_time = 0;
        containers_.update_state(record);
        if (plan_.auto_remove) {
            trash = delete_container_files(database_, plan_.runtime_root, plan_.id,
                                           plan_.container_dir);
            containers_.remove(plan_.id);
            remove_anonymous_volumes(database_, plan_.root, request_of(record));
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: recording the exit: %s\n", error.what());
    }
    // After the container is gone from every place a command looks, so that
    // a `berth run --rm` returns only then; its files are deleted after.
    forward(FrameType::exited, std::to_string(exit_code));
    close_control();
    if (!trash.empty()) empty_trash(trash);
    database_.checkpoint_if_worthwhile();
}

} // namespace

UniqueFd spawn_monitor(const MonitorPlan& plan) {
    UniqueFd starter_end, monitor_end;
    seqpacket_pair(starter_end, monitor_end);
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw_errno("forking the container's monitor");
    if (child == 0) {
        // Its own session: no terminal's signals reach it. The second fork
        // makes it no session leader, so no terminal it opens becomes its own.
        ::setsid();
        pid_t monitor = ::fork();
        if (monitor != 0) ::_exit(monitor < 0 ? 1 : 0);
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        // What `ps` shows instead of the starter's name.
        ::prctl(PR_SET_NAME, "berth-monitor");
        ::chdir("/");
        int control = monitor_end.get();
        close_other_fds({control});
        reset_signals();
        int code = 1;
        try {
            code = Monitor(plan, control).run();
        } catch (const std::exception& error) {
            std::fprintf(stderr, "berth monitor: %s\n", error.what());
            send_frame(control, FrameType::failed, "125\n" + std::string(error.what()));
        }
        // _exit: the starter's objects (its stdio buffers) are not ours to flush.
        ::_exit(code);
    }
    monitor_end.reset();
    int status;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return starter_end;
}

} // namespace berth::engine
