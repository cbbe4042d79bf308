#include "monitor.h"

#include "attach_protocol.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/identity.h"
#include "berth/engine/json_log.h"
#include "berth/runtime/runtime.h"
#include "container_network.h"
#include "process_identity.h"
#include "teardown.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
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

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

class Monitor {
  public:
    Monitor(const MonitorPlan& plan, int control)
        : plan_(plan), control_(control), runtime_(plan.runtime_root),
          database_(plan.database_path), containers_(database_) {}

    int run();

  private:
    // Records a failed start, tells the starter, and cleans up.
    int fail_start(const std::string& message);
    void pump_output();
    void finish(int exit_code);
    void forward(FrameType type, std::string_view data) {
        if (control_ >= 0 && !send_frame(control_, type, data)) control_ = -1;
    }

    MonitorPlan plan_;
    int control_;
    runtime::Runtime runtime_;
    image::Database database_;
    ContainerStore containers_;
    UniqueFd devnull_, diagnostics_, stdout_read_, stderr_read_, init_pidfd_;
    pid_t init_pid_ = 0;
    int init_status_ = -1;
};

int Monitor::fail_start(const std::string& message) {
    int code = exit_code_for_start_failure(message);
    std::fprintf(stderr, "berth monitor: start failed: %s\n", message.c_str());
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
            delete_container_files(database_, plan_.runtime_root, plan_.id, plan_.container_dir);
            containers_.remove(plan_.id);
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

    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0)
        return fail_start("creating the container's stdio pipes: " + std::string(strerror(errno)));
    stdout_read_.reset(out[0]);
    stderr_read_.reset(err[0]);
    UniqueFd stdout_write(out[1]), stderr_write(err[1]);

    try {
        // Left over from a monitor that was killed: the new create needs the id.
        runtime_.remove(plan_.id, true);
        // The init inherits stdio: the container's output goes into our pipes.
        redirect(stdout_write.get(), STDOUT_FILENO);
        redirect(stderr_write.get(), STDERR_FILENO);
        runtime::CreateOptions options;
        options.id = plan_.id;
        options.bundle = plan_.container_dir;
        try {
            runtime_.create(options);
        } catch (...) {
            redirect(devnull_.get(), STDOUT_FILENO);
            redirect(diagnostics_.get(), STDERR_FILENO);
            throw;
        }
        // Only the init may hold the write ends now, so its exit is our EOF.
        redirect(devnull_.get(), STDOUT_FILENO);
        redirect(diagnostics_.get(), STDERR_FILENO);
        stdout_write.reset();
        stderr_write.reset();

        init_pid_ = runtime_.state(plan_.id).pid;
        init_pidfd_.reset(pidfd_open(init_pid_));
        if (!init_pidfd_) throw_errno("watching the container's init");
        // Between create and start, as OCI means it: the init waits in its new
        // network namespace while berth wires it (veth, address, routes, ports).
        connect_container(database_, run_root_of(plan_.database_path),
                          run_root_of(plan_.runtime_root), record,
                          run_request_from_json(nlohmann::json::parse(record.config_json)),
                          plan_.container_dir, init_pid_);
        record = containers_.get(plan_.id);
        record.state = ContainerState::running;
        record.pid = init_pid_;
        record.exit_code = 0;
        record.started = now_rfc3339_nano();
        containers_.update_state(record);
        runtime_.start(plan_.id);
    } catch (const std::exception& error) {
        return fail_start(error.what());
    }
    forward(FrameType::started, {});
    // A detached starter has gone; output then only goes to the log.
    if (!plan_.attach && control_ >= 0) {
        ::close(control_);
        control_ = -1;
    }
    pump_output();
    finish(init_status_ < 0 ? 255 : exit_code_of(init_status_));
    return 0;
}

void Monitor::pump_output() {
    JsonLogWriter log(plan_.container_dir + "/" + plan_.id + "-json.log");
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

    while (stdout_open || stderr_open || !init_exited) {
        std::vector<pollfd> fds;
        int timeout_ms = 1000;
        if (stdout_open) fds.push_back({stdout_read_.get(), POLLIN, 0});
        if (stderr_open) fds.push_back({stderr_read_.get(), POLLIN, 0});
        if (!init_exited) fds.push_back({init_pidfd_.get(), POLLIN, 0});
        if (control_ >= 0) fds.push_back({control_, POLLIN, 0});
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
            if (entry.fd == stdout_read_.get() || entry.fd == stderr_read_.get()) {
                bool is_stderr = entry.fd == stderr_read_.get();
                ssize_t got = ::read(entry.fd, buffer.data(), buffer.size());
                if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                if (got <= 0) {
                    (is_stderr ? stderr_open : stdout_open) = false;
                    continue;
                }
                std::string_view data(buffer.data(), static_cast<std::size_t>(got));
                try {
                    log.write(is_stderr, data);
                } catch (const Error& error) {
                    std::fprintf(stderr, "berth monitor: %s\n", error.what());
                }
                forward(is_stderr ? FrameType::stderr_data : FrameType::stdout_data, data);
            } else if (entry.fd == control_) {
                Frame frame = receive_frame(control_);
                if (frame.closed) {
                    // The attached command went away: the container runs on, logged.
                    ::close(control_);
                    control_ = -1;
                } else if (frame.type == FrameType::signal) {
                    try {
                        runtime_.kill(plan_.id, std::atoi(frame.payload.c_str()), false);
                    } catch (const Error&) {
                        // Already exited: nothing to signal.
                    }
                }
            }
        }
        reap();
    }
    log.flush();
    if (!init_exited) {
        // Both pipes closed but no exit seen yet: wait for it.
        int status;
        if (::waitpid(init_pid_, &status, 0) == init_pid_) init_status_ = status;
    }
}

void Monitor::finish(int exit_code) {
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
            delete_container_files(database_, plan_.runtime_root, plan_.id, plan_.container_dir);
            containers_.remove(plan_.id);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: recording the exit: %s\n", error.what());
    }
    // Last, so that a `berth run --rm` returns only once everything is gone.
    forward(FrameType::exited, std::to_string(exit_code));
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
