#include "monitor.h"

#include "attach_protocol.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/unix_socket.h"
#include "berth/engine/container_files.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/identity.h"
#include "berth/engine/json_log.h"
#include "berth/engine/monitor_exit.h"
#include "berth/engine/restart_policy.h"
#include "container_network.h"
#include "container_runtime.h"
#include "healthcheck_schedule.h"
#include "monitor_handoff.h"
#include "process_identity.h"
#include "relay.h"
#include "rootless_network.h"
#include "teardown.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace berth::engine {

namespace {

using Clock = std::chrono::steady_clock;

// How long stage one watches a container itself while a command waits for
// its exit (monitor_handoff.h), before berth-monitor takes over: long enough
// for the short commands people `run`, short enough that a long-lived
// container soon costs only berth-monitor's memory.
constexpr auto own_watch = std::chrono::seconds(1);

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

// The berth binary this process runs (the exit command is its own).
std::string self_exe() {
    char path[4096];
    ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (length <= 0) throw_errno("finding berth's own executable");
    std::string exe(path, static_cast<std::size_t>(length));
    // berth was upgraded while the container ran: the new one runs the exit command.
    if (exe.ends_with(" (deleted)")) exe.resize(exe.size() - 10);
    return exe;
}

// $BERTH_MONITOR, else beside berth (a build tree), else where it is installed.
std::string small_monitor_path() {
    if (const char* from_env = std::getenv("BERTH_MONITOR"); from_env && *from_env) return from_env;
    std::string beside = self_exe();
    beside = beside.substr(0, beside.rfind('/') + 1) + "berth-monitor";
    if (::access(beside.c_str(), X_OK) == 0) return beside;
    if (::access(BERTH_MONITOR_INSTALL_PATH, X_OK) == 0) return BERTH_MONITOR_INSTALL_PATH;
    fail("berth-monitor is not installed (looked beside berth and at " BERTH_MONITOR_INSTALL_PATH
         ")");
}

// The plan, the attach listener's fd and the restart delay so far.
struct ExitCommandArgs {
    MonitorPlan plan;
    int attach_listener = -1;
    std::chrono::milliseconds delay{0};
};

ExitCommandArgs decode_exit_command(const std::vector<std::string>& words) {
    ExitCommandArgs args;
    std::vector<std::string> plan_words;
    for (const auto& word : words) {
        std::string value;
        if (word_value(word, "attach-listener-fd", value))
            args.attach_listener = std::stoi(value);
        else if (word_value(word, "delay-ms", value))
            args.delay = std::chrono::milliseconds(std::stol(value));
        else
            plan_words.push_back(word);
    }
    try {
        args.plan = decode_monitor_plan(plan_words);
    } catch (const Error& error) {
        fail(std::string(monitor_exit_command) + ": " + error.what());
    }
    return args;
}

class Monitor {
  public:
    Monitor(const MonitorPlan& plan, int control, int attach_listener = -1,
            std::unique_ptr<image::Database> database = nullptr,
            UniqueFd network_namespace = UniqueFd())
        : plan_(plan), control_(control),
          runtime_(open_container_runtime(run_root_of(plan.runtime_root), plan.runtime)),
          database_(std::move(database)), attach_listener_(attach_listener),
          network_namespace_(std::move(network_namespace)) {}

    // The first stage: starts the container, then hands over to berth-monitor.
    int run();
    // The exit command: the init has exited (see monitor_handoff.h).
    int resume(const RelayOutcome& outcome, std::chrono::milliseconds delay);

  private:
    // Records a failed start, tells the starter, and cleans up.
    int fail_start(const std::string& message);
    // Stdio pipes, then the runtime's create and start; throws on failure.
    void start_container();
    // Watches the started container: itself for a moment if a command
    // waits for its exit, then through berth-monitor. Returns the exit code
    // if the container's exit was handled here, or if the exec failed.
    int hand_over(std::chrono::milliseconds delay);
    RelayPlan relay_plan(std::chrono::milliseconds delay);
    // What follows the init's exit: record it, then remove or restart.
    int after_exit(const RelayOutcome& outcome, std::chrono::milliseconds delay);
    bool stopped_by_user() const;
    // False if the user stopped the container meanwhile.
    bool sleep_unless_stopped(std::chrono::milliseconds delay);
    void close_control() {
        if (control_ >= 0) ::close(control_);
        control_ = -1;
    }
    void redirect_stdio_to_diagnostics();
    // When the last process of a mount namespace exits, its exit waits for
    // the namespace's teardown (every mount, and an RCU grace period: ~0.6
    // ms here) before its parent can reap it. Holding the namespace moves
    // that work to our close, after the waiting command has its exit code.
    // Holding it changes nothing the container can see: it has exited, and
    // the host's own mount of its rootfs is unmounted as before.
    void hold_mount_namespace();
    // `read`: the container's record if just read (saves a second read).
    void finish(int exit_code, std::optional<ContainerRecord> read = std::nullopt);
    void forward(FrameType type, std::string_view data) {
        if (control_ >= 0 && !send_frame(control_, type, data)) control_ = -1;
    }
    // Opened when first needed; closed before berth-monitor is exec'd.
    image::Database& database() {
        if (!database_) database_ = std::make_unique<image::Database>(plan_.database_path);
        return *database_;
    }
    ContainerStore& containers() {
        if (!containers_) containers_ = std::make_unique<ContainerStore>(database());
        return *containers_;
    }

    MonitorPlan plan_;
    int control_;
    std::unique_ptr<ContainerRuntime> runtime_;
    std::unique_ptr<image::Database> database_;
    std::unique_ptr<ContainerStore> containers_;
    UniqueFd devnull_, diagnostics_, stdout_read_, stderr_read_;
    UniqueFd console_;         // the pty master, with a terminal
    UniqueFd stdin_write_;     // the stdin pipe's write end (-i without -t)
    UniqueFd attach_listener_; // where `berth attach` connects
    pid_t init_pid_ = 0;
    // The init's mount namespace, held while this process watches it (see
    // hold_mount_namespace).
    UniqueFd held_mounts_;
    // Made ahead for the first start (EarlyWork); the init's once created.
    UniqueFd network_namespace_;
    RunRequest request_; // the container's, read at its start
};

int Monitor::fail_start(const std::string& message) {
    int code = exit_code_for_start_failure(message);
    std::fprintf(stderr, "berth monitor: start failed: %s\n", message.c_str());
    if (attach_listener_) {
        attach_listener_.reset();
        ::unlink(plan_.attach_socket.c_str());
    }
    try {
        ContainerRecord record = containers().get(plan_.id);
        // Docker keeps a container that never ran "created", with the code.
        record.state = record.started.empty() ? ContainerState::created : ContainerState::exited;
        record.exit_code = code;
        record.error = message;
        record.pid = 0;
        record.monitor_pid = 0;
        record.monitor_start_time = 0;
        containers().update_state(record);
        if (plan_.auto_remove) {
            empty_trash(delete_container_files(database(), plan_.runtime_root, plan_.id,
                                               plan_.container_dir));
            containers().remove(plan_.id);
            remove_anonymous_volumes(database(), plan_.root, request_of(record));
        } else {
            release_container(database(), plan_.runtime_root, plan_.id, plan_.container_dir);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: cleaning up after the failed start: %s\n",
                     error.what());
    }
    forward(FrameType::failed, std::to_string(code) + "\n" + message);
    return 1;
}

void Monitor::redirect_stdio_to_diagnostics() {
    devnull_ = open_fd("/dev/null", O_RDWR);
    diagnostics_ =
        open_fd(plan_.container_dir + "/monitor.log", O_WRONLY | O_CREAT | O_APPEND, 0640);
    redirect(devnull_.get(), STDIN_FILENO);
    redirect(devnull_.get(), STDOUT_FILENO);
    redirect(diagnostics_.get(), STDERR_FILENO);
}

int Monitor::run() {
    redirect_stdio_to_diagnostics();
    if (!plan_.attach_socket.empty()) {
        try {
            attach_listener_ =
                listen_unix(plan_.attach_socket, "listening for attach at " + plan_.attach_socket,
                            SOCK_SEQPACKET);
        } catch (const std::exception& error) {
            return fail_start(error.what());
        }
    }
    try {
        start_container();
    } catch (const std::exception& error) {
        return fail_start(error.what());
    }
    forward(FrameType::started, {});
    // A detached starter has gone; output then only goes to the log.
    if (!plan_.attach) close_control();
    return hand_over(std::chrono::milliseconds(0));
}

int Monitor::resume(const RelayOutcome& outcome, std::chrono::milliseconds delay) {
    redirect_stdio_to_diagnostics();
    return after_exit(outcome, delay);
}

int Monitor::after_exit(const RelayOutcome& outcome, std::chrono::milliseconds delay) {
    int code = outcome.wait_status < 0 ? 255 : exit_code_of(outcome.wait_status);
    ContainerRecord record = containers().get(plan_.id);
    const RestartPolicy policy = request_of(record).options.restart;
    if (!should_restart(policy, code, record.restart_count, stopped_by_user())) {
        finish(code, std::move(record));
        return 0;
    }
    held_mounts_.reset();
    // The runtime's state and the network wiring go; the rootfs stays
    // mounted for the next run.
    try {
        runtime_->remove(plan_.id, true);
        disconnect_container(database(), run_root_of(plan_.runtime_root), plan_.id);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: before restarting: %s\n", error.what());
    }
    record.state = ContainerState::restarting;
    record.exit_code = code;
    record.finished = now_rfc3339_nano();
    record.pid = 0;
    containers().update_state(record);
    // An attached `run` ends with the first exit, as Docker's does.
    forward(FrameType::exited, std::to_string(code));
    close_control();
    delay = next_restart_delay(delay, std::chrono::milliseconds(outcome.ran_ms));
    if (!sleep_unless_stopped(delay)) {
        finish(code);
        return 0;
    }
    record = containers().get(plan_.id);
    ++record.restart_count;
    containers().update_state(record);
    try {
        start_container();
    } catch (const std::exception& error) {
        return fail_start(error.what());
    }
    return hand_over(delay);
}

void Monitor::hold_mount_namespace() {
    // Called while the init makes its mounts (or, with another runtime, waits
    // for start): its namespace is there to open. Without it (a process
    // gone) the exit just costs more.
    held_mounts_.reset(
        ::open(("/proc/" + std::to_string(init_pid_) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
}

bool Monitor::stopped_by_user() const {
    return path_exists(stop_marker_path(plan_.container_dir));
}

bool Monitor::sleep_unless_stopped(std::chrono::milliseconds delay) {
    // In slices, so that a `stop` during the backoff is seen at once.
    auto deadline = Clock::now() + delay;
    for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
        if (stopped_by_user()) return false;
        // From the same `now` as the test above: a `left` read later could
        // be negative, and as useconds_t a sleep of 71 minutes.
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
        ::usleep(static_cast<useconds_t>(std::clamp<long>(left.count(), 1, 20000)));
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
    stdin_write_.reset();
    console_.reset();
    if (plan_.interactive && !plan_.tty) {
        int in[2];
        if (::pipe2(in, O_CLOEXEC) < 0) throw_errno("creating the container's stdin pipe");
        stdin_read.reset(in[0]);
        stdin_write_.reset(in[1]);
    }

    // Left over from a monitor that was killed: the new create needs the id.
    runtime_->remove(plan_.id, true);
    ::unlink(pause_hint_path(plan_.container_dir).c_str());
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
    ContainerRecord record;
    CreateHelp help;
    help.network_namespace_fd = network_namespace_.get();
    help.while_init_mounts = [&](pid_t init) {
        // The init has its own copies of the pipes: ours are done.
        restore_stdio();
        init_pid_ = init;
        // Now, while it surely lives: it may exit as soon as it is started.
        hold_mount_namespace();
        record = containers().get(plan_.id);
        // Recorded as the init's watcher before create returns: until then
        // a killed monitor takes the init with it (its parent-death signal),
        // and the row reads "created", as it was.
        if (record.monitor_pid != ::getpid()) {
            record.monitor_pid = ::getpid();
            record.monitor_start_time = process_start_time(::getpid());
            record.error.clear();
            containers().update_state(record);
        }
        request_ = run_request_from_json(nlohmann::json::parse(record.config_json));
        // The init waits in its new network namespace, before its sysctls,
        // while berth wires it (veth, address, routes, ports).
        connect_container(database(), run_root_of(plan_.database_path),
                          run_root_of(plan_.runtime_root), record, request_, plan_.container_dir,
                          init);
    };
    try {
        console_ = runtime_->create_and_start(plan_.id, plan_.container_dir, plan_.tty, help);
    } catch (...) {
        held_mounts_.reset();
        network_namespace_.reset();
        restore_stdio();
        throw;
    }
    network_namespace_.reset();
    // Only the init may hold the pipes' other ends now, so its exit is our EOF.
    stdin_read.reset();
    stdout_write.reset();
    stderr_write.reset();

    // Started before it is recorded, so the init's exec overlaps the write;
    // the starter hears "started" after both, so no command that waited for
    // it sees the container as created.
    record.started = now_rfc3339_nano();
    record.state = ContainerState::running;
    record.pid = init_pid_;
    record.exit_code = 0;
    containers().update_state(record);
}

RelayPlan Monitor::relay_plan(std::chrono::milliseconds delay) {
    RelayPlan relay;
    relay.init_pid = init_pid_;
    relay.stdout_read = stdout_read_.get();
    relay.stderr_read = stderr_read_.get();
    relay.console = console_.get();
    relay.stdin_write = stdin_write_.get();
    relay.console_input = plan_.interactive && console_;
    relay.control = control_;
    relay.attach_listener = attach_listener_.get();
    if (int slirp_exit = slirp4netns_exit_fd(); slirp_exit >= 0)
        relay.held_fds.push_back(slirp_exit);
    if (plan_.keep_log) {
        relay.log_path = plan_.container_dir + "/" + plan_.id + "-json.log";
        relay.log_rotation = plan_.log_rotation;
    }
    if (auto check = healthcheck_schedule(self_exe(), plan_.root, plan_.id, request_)) {
        relay.periodic_command = std::move(check->command);
        relay.periodic_interval_ms = check->interval_ms;
    }
    relay.exit_command = {self_exe(), monitor_exit_command};
    for (auto& word : encode_monitor_plan(plan_))
        relay.exit_command.push_back(std::move(word));
    relay.exit_command.push_back("--attach-listener-fd=" + std::to_string(attach_listener_.get()));
    relay.exit_command.push_back("--delay-ms=" + std::to_string(delay.count()));
    return relay;
}

int Monitor::hand_over(std::chrono::milliseconds delay) {
    std::string monitor_exe;
    try {
        monitor_exe = small_monitor_path();
    } catch (const std::exception& error) {
        return fail_start(error.what());
    }
    RelayPlan relay = relay_plan(delay);
    // A command waits for the exit (an attached run): a short container ends
    // here, two execs (berth-monitor, berth's exit command) and a database
    // open sooner. A health check's schedule is berth-monitor's alone.
    if (control_ >= 0 && relay.periodic_command.empty()) {
        std::optional<RelayOutcome> outcome = relay_until(relay, Clock::now() + own_watch);
        control_ = relay.control;
        if (relay.stdin_write < 0) stdin_write_.release(); // the relay closed it
        if (outcome) return after_exit(*outcome, delay);
    }
    std::vector<std::string> words{monitor_exe};
    for (auto& word : encode_relay_plan(relay))
        words.push_back(std::move(word));

    // berth-monitor holds nothing of ours but these fds: no SQLite
    // connection (its locks), no CLI heap.
    containers_.reset();
    database_.reset();
    for (int fd : {relay.stdout_read, relay.stderr_read, relay.console, relay.stdin_write,
                   relay.control, relay.attach_listener})
        keep_across_exec(fd);
    for (int fd : relay.held_fds)
        keep_across_exec(fd);
    exec_words(words);
    std::string message = "running " + monitor_exe + ": " + std::strerror(errno);
    std::fprintf(stderr, "berth monitor: %s\n", message.c_str());
    return fail_start(message);
}

void Monitor::finish(int exit_code, std::optional<ContainerRecord> read) {
    std::string trash;
    if (attach_listener_) {
        attach_listener_.reset();
        ::unlink(plan_.attach_socket.c_str());
    }
    bool released = false;
    try {
        release_container(database(), plan_.runtime_root, plan_.id, plan_.container_dir);
        released = true;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: releasing the container: %s\n", error.what());
    }
    try {
        ContainerRecord record = read ? std::move(*read) : containers().get(plan_.id);
        record.state = ContainerState::exited;
        record.exit_code = exit_code;
        record.finished = now_rfc3339_nano();
        record.pid = 0;
        record.monitor_pid = 0;
        record.monitor_start_time = 0;
        // A released --rm container's row goes next: nobody would see this
        // state (`wait` waits for the monitor's end), and a monitor killed
        // before the removal leaves a row that reads as exited all the same.
        if (!plan_.auto_remove || !released) containers().update_state(record);
        if (plan_.auto_remove) {
            if (released) {
                // One commit for both rows' deletions.
                database().transaction([&] {
                    trash = discard_container_files(database(), plan_.id, plan_.container_dir);
                    containers().remove(plan_.id);
                });
            } else {
                trash = delete_container_files(database(), plan_.runtime_root, plan_.id,
                                               plan_.container_dir);
                containers().remove(plan_.id);
            }
            remove_anonymous_volumes(database(), plan_.root, request_of(record));
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: recording the exit: %s\n", error.what());
    }
    // After the container is gone from every place a command looks, so that
    // a `berth run --rm` returns only then; its files are deleted after.
    forward(FrameType::exited, std::to_string(exit_code));
    close_control();
    held_mounts_.reset();
    if (!trash.empty()) empty_trash(trash);
    database().checkpoint_if_worthwhile();
}

} // namespace

int run_monitor(const MonitorPlan& plan, int control, std::unique_ptr<image::Database> database,
                UniqueFd network_namespace) {
    try {
        return Monitor(plan, control, -1, std::move(database), std::move(network_namespace)).run();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: %s\n", error.what());
        send_frame(control, FrameType::failed, "125\n" + std::string(error.what()));
        return 1;
    }
}

} // namespace berth::engine

namespace berth::engine {

int run_monitor_exit_command(int argc, char** argv) {
    // What `ps` shows for the whole life of the monitor.
    ::prctl(PR_SET_NAME, "berth-monitor");
    std::vector<std::string> words(argv + 2, argv + argc);
    RelayOutcome outcome = take_relay_outcome(words);
    // Close-on-exec again: a restarted container's init must not inherit them.
    if (outcome.control >= 0) ::fcntl(outcome.control, F_SETFD, FD_CLOEXEC);
    try {
        ExitCommandArgs args = decode_exit_command(words);
        if (args.attach_listener >= 0) ::fcntl(args.attach_listener, F_SETFD, FD_CLOEXEC);
        return Monitor(args.plan, outcome.control, args.attach_listener)
            .resume(outcome, args.delay);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "berth monitor: %s\n", error.what());
        if (outcome.control >= 0) send_frame(outcome.control, FrameType::exited, "255");
        return 1;
    }
}

} // namespace berth::engine
