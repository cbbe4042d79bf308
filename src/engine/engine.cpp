// The engine's lifecycle operations after create, and its view of state.
#include "berth/engine/engine.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/unix_socket.h"
#include "berth/base/user_namespace.h"
#include "berth/engine/container_files.h"
#include "berth/engine/identity.h"
#include "berth/engine/json_log.h"
#include "berth/engine/restart_policy.h"
#include "berth/engine/user_lookup.h"
#include "berth/image/image_store.h"
#include "berth/image/rootfs.h"
#include "berth/runtime/cgroups.h"
#include "berth/runtime/runtime.h"
#include "container_network.h"
#include "container_runtime.h"
#include "detached_exec.h"
#include "monitor.h"
#include "process_identity.h"
#include "teardown.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <set>
#include <unistd.h>

namespace berth::engine {

namespace {

constexpr int default_stop_timeout = 10;

RunRequest request_of(const ContainerRecord& record) {
    return run_request_from_json(nlohmann::json::parse(record.config_json));
}

// A monitor looks after it: it runs, or waits to be restarted.
bool is_monitored(const ContainerRecord& record) {
    return record.state == ContainerState::running || record.state == ContainerState::restarting;
}

// So that the monitor does not restart what the user stopped.
void mark_stopped_by_user(const std::string& container_dir) {
    try {
        write_file_atomic(stop_marker_path(container_dir), "");
    } catch (const Error&) {
    }
}

} // namespace

std::string default_run_root() {
    const char* from_env = std::getenv("BERTH_RUNROOT");
    if (from_env && *from_env) return from_env;
    if (::geteuid() == 0) return "/run/berth";
    // Rootless, as podman: the user's runtime directory (a tmpfs the login
    // made, gone at logout, as /run/berth is at reboot).
    const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
    if (runtime_dir && *runtime_dir == '/') return std::string(runtime_dir) + "/berth";
    return "/tmp/berth-run-" + std::to_string(::geteuid());
}

Engine::Engine(EngineOptions options) : options_(std::move(options)) {
    if (options_.root.empty()) options_.root = image::default_root();
    if (options_.run_root.empty()) options_.run_root = default_run_root();
    options_.root = absolute_path_of(options_.root);
    options_.run_root = absolute_path_of(options_.run_root);
    make_directories(options_.root + "/containers", 0710);
    make_directories(runtime_root(), 0700);
}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

std::string Engine::container_dir(const std::string& id) const {
    return options_.root + "/containers/" + id;
}

std::string Engine::log_path(const std::string& id) const {
    return container_dir(id) + "/" + id + "-json.log";
}

std::string Engine::runtime_root() const {
    return options_.run_root + "/runtime";
}

ContainerStore& Engine::containers() {
    if (!containers_) {
        if (!database_) database_ = std::make_unique<image::Database>(options_.root + "/berth.db");
        containers_ = std::make_unique<ContainerStore>(*database_);
    }
    return *containers_;
}

VolumeStore& Engine::volumes() {
    if (!volumes_) {
        if (!database_) database_ = std::make_unique<image::Database>(options_.root + "/berth.db");
        volumes_ = std::make_unique<VolumeStore>(*database_);
    }
    return *volumes_;
}

void Engine::close_database() {
    volumes_.reset();
    containers_.reset();
    database_.reset();
}

std::optional<ContainerRecord> Engine::reconcile(ContainerRecord record) {
    if (!is_monitored(record) ||
        process_alive(static_cast<pid_t>(record.monitor_pid), record.monitor_start_time))
        return record;
    ContainerRecord exited = record;
    bool init_alive = false;
    try {
        auto status = runtime_of_container(options_.run_root, record)->state(record.id).status;
        init_alive = status == oci::Status::running || status == oci::Status::created ||
                     status == oci::Status::paused;
    } catch (const Error&) {
    }
    exited.state = ContainerState::exited;
    // Killed here if it still ran; otherwise its real code died with the monitor.
    exited.exit_code = init_alive ? 128 + SIGKILL : 255;
    exited.error = "the container's monitor died";
    exited.finished = now_rfc3339_nano();
    exited.pid = 0;
    exited.monitor_pid = 0;
    exited.monitor_start_time = 0;
    // Of several commands noticing at once, one cleans up.
    if (containers().update_state_if(exited, record.state, record.monitor_pid)) {
        std::string dir = container_dir(record.id);
        try {
            if (request_of(record).auto_remove) {
                empty_trash(delete_container_files(*database_, runtime_root(), record.id, dir));
                containers().remove(record.id);
                remove_anonymous_volumes(*database_, options_.root, request_of(record));
                return std::nullopt;
            }
            release_container(*database_, runtime_root(), record.id, dir);
        } catch (const Error& error) {
            exited.error += std::string("; cleaning up: ") + error.what();
            containers().update_state(exited);
        }
    }
    return containers().find(record.id);
}

ContainerRecord Engine::get(const std::string& reference) {
    auto record = reconcile(containers().get(reference));
    if (!record) fail("no such container: " + reference);
    note_paused(*record);
    return *record;
}

std::vector<ContainerRecord> Engine::list() {
    ContainerStore& store = containers();
    std::vector<ContainerRecord> records;
    std::set<std::string> alive; // their monitors, just read by reconcile
    for (auto& record : store.list())
        if (auto current = reconcile(record)) {
            if (is_monitored(*current)) alive.insert(current->id);
            note_paused(*current, true);
            records.push_back(*current);
        }
    // What killed monitors left of their networks (the listing reads every
    // container's monitor anyway; a start or inspect does not). Reconcile
    // took care of the listed containers whose monitor died.
    sweep_network_leftovers(*database_, store, options_.run_root, alive);
    return records;
}

void Engine::note_paused(ContainerRecord& record, bool if_hinted) {
    if (record.state != ContainerState::running) return;
    if (if_hinted && !path_exists(pause_hint_path(container_dir(record.id)))) return;
    try {
        record.paused = runtime_of_container(options_.run_root, record)->state(record.id).status ==
                        oci::Status::paused;
    } catch (const Error&) {
    }
}

void Engine::get_ready_to_start() {
    // Forked with no SQLite connection open in this process (see
    // spawn_monitor); too late once one is.
    if (!pending_monitor_ && !database_)
        pending_monitor_ = std::make_unique<PendingMonitor>(options_.root + "/berth.db");
}

Attachment Engine::start(const std::string& reference, bool attach) {
    get_ready_to_start();
    // Rootless containers get no cgroups here. (A `run` warmed up in
    // create, once its cgroup was made: this does nothing then.)
    if (!rootless()) runtime::cgroups::warm_up_moves();
    // Nothing early for a container made before (and none made twice for
    // one `run`): the monitor opens its database now.
    if (pending_monitor_) pending_monitor_->prepare({});
    ContainerRecord record = get(reference);
    if (is_monitored(record)) {
        if (attach) fail("container " + record.name + " is already running");
        return Attachment();
    }
    if (record.state == ContainerState::removing)
        fail("container " + record.name + " is being removed");
    RunRequest request = request_of(record);
    std::string dir = container_dir(record.id);
    if (!image::is_mount_point(dir + "/rootfs")) {
        // Restarting a stopped container: its upper layer is still there.
        image::StoreOptions store_options;
        store_options.root = options_.root;
        store_options.apply.preserve_ownership = !rootless();
        image::ImageStore store(store_options);
        image::mount_rootfs(store, store.resolve(record.image_id), dir,
                            {.scratch_upper = request.auto_remove});
    }
    // A start by the user starts the policy afresh, as Docker's.
    ::unlink(stop_marker_path(dir).c_str());
    if (record.restart_count != 0) {
        record.restart_count = 0;
        containers().update_state(record);
    }
    MonitorPlan plan;
    plan.id = record.id;
    plan.container_dir = dir;
    plan.runtime_root = runtime_root();
    plan.runtime = request.runtime;
    plan.database_path = options_.root + "/berth.db";
    plan.root = options_.root;
    plan.auto_remove = request.auto_remove;
    plan.attach = attach;
    plan.interactive = request.interactive;
    plan.tty = request.tty;
    plan.attach_socket = attach_socket(record.id);
    plan.keep_log = request.log_driver != "none";
    plan.log_rotation = parse_log_options(request.log_options);
    make_directories(options_.run_root + "/attach", 0700);
    if (pending_monitor_) {
        std::unique_ptr<PendingMonitor> monitor = std::move(pending_monitor_);
        return Attachment(monitor->start(plan));
    }
    // Never open across the fork: SQLite keeps per-process state (the files
    // it has open, the WAL index's mapping) that the monitor would inherit,
    // and its own open of berth.db would reuse fds it has closed ("disk I/O
    // error").
    close_database();
    return Attachment(spawn_monitor(plan));
}

Attachment Engine::attach(const std::string& reference) {
    ContainerRecord record = get(reference);
    if (record.state != ContainerState::running)
        fail("you cannot attach to a stopped container, start it first");
    close_database();
    return Attachment(connect_unix(attach_socket(record.id),
                                   "attaching to container " + record.name, SOCK_SEQPACKET));
}

RunRequest Engine::request(const std::string& reference) {
    return request_of(get(reference));
}

// Short: a socket's path must fit in 108 bytes, and 16 hex digits are unique enough.
std::string Engine::attach_socket(const std::string& id) const {
    return options_.run_root + "/attach/" + id.substr(0, 16);
}

bool Engine::wait_for_monitor(const ContainerRecord& record, int timeout_ms) {
    pid_t pid = static_cast<pid_t>(record.monitor_pid);
    int fd = pid > 0 ? pidfd_open(pid) : -1;
    if (fd < 0) return true;
    UniqueFd monitor(fd);
    // The pid may have been reused since it was recorded.
    if (!process_alive(pid, record.monitor_start_time)) return true;
    for (;;) {
        pollfd exited{monitor.get(), POLLIN, 0};
        int ready = ::poll(&exited, 1, timeout_ms);
        if (ready > 0) return true;
        if (ready == 0) return false;
        if (errno != EINTR) throw_errno("waiting for the container's monitor");
    }
}

void Engine::stop(const std::string& reference, int timeout_seconds) {
    ContainerRecord record = get(reference);
    if (!is_monitored(record)) return;
    mark_stopped_by_user(container_dir(record.id));
    RunRequest request = request_of(record);
    if (timeout_seconds < 0)
        timeout_seconds = request.stop_timeout >= 0 ? request.stop_timeout : default_stop_timeout;
    auto runtime = runtime_of_container(options_.run_root, record);
    // Docker's way: a paused container is thawed to be stopped gracefully.
    if (record.paused) runtime->resume(record.id);
    int signal = SIGTERM;
    try {
        signal =
            runtime::parse_signal(request.stop_signal.empty() ? "SIGTERM" : request.stop_signal);
    } catch (const Error&) {
    }
    try {
        runtime->kill(record.id, signal);
    } catch (const Error&) {
        // Exited meanwhile.
    }
    if (!wait_for_monitor(record, timeout_seconds * 1000)) {
        try {
            runtime->kill(record.id, SIGKILL);
        } catch (const Error&) {
        }
        if (!wait_for_monitor(record, 30000))
            fail("container " + record.name + " did not stop after SIGKILL");
    }
    if (auto current = containers().find(record.id)) reconcile(*current);
}

void Engine::kill(const std::string& reference, int signal) {
    ContainerRecord record = get(reference);
    if (record.state == ContainerState::restarting)
        fail("cannot kill container " + record.name +
             ": container is restarting: wait until the container is running");
    if (record.state != ContainerState::running)
        fail("cannot kill container " + record.name + ": container is not running");
    // Docker's kill ends the restart policy too, when it is meant to end the container.
    if (signal == SIGKILL || signal == SIGTERM || signal == SIGINT)
        mark_stopped_by_user(container_dir(record.id));
    auto runtime = runtime_of_container(options_.run_root, record);
    runtime->kill(record.id, signal);
    // Other signals wait for `unpause`, as they do in docker; SIGKILL acts now.
    if (record.paused && signal == SIGKILL) runtime->resume(record.id);
}

void Engine::remove(const std::string& reference, bool force, bool remove_volumes) {
    ContainerRecord record = get(reference);
    if (is_monitored(record)) {
        if (!force)
            fail("cannot remove container \"/" + record.name +
                 "\": container is running: stop the container before removing or force remove");
        mark_stopped_by_user(container_dir(record.id));
        try {
            auto runtime = runtime_of_container(options_.run_root, record);
            runtime->kill(record.id, SIGKILL);
            if (record.paused) runtime->resume(record.id);
        } catch (const Error&) {
        }
        if (!wait_for_monitor(record, 30000))
            fail("container " + record.name + " did not stop after SIGKILL");
        auto current = containers().find(record.id);
        if (!current) return; // it had --rm, and its monitor removed it
        auto reconciled = reconcile(*current);
        if (!reconciled) return;
        record = *reconciled;
    }
    ContainerRecord removing = record;
    removing.state = ContainerState::removing;
    containers().update_state(removing);
    std::string trash =
        delete_container_files(*database_, runtime_root(), record.id, container_dir(record.id));
    containers().remove(record.id);
    if (remove_volumes) remove_anonymous_volumes(*database_, options_.root, request_of(record));
    empty_trash(trash);
}

int Engine::wait(const std::string& reference) {
    ContainerRecord record = get(reference);
    if (is_monitored(record) && request_of(record).options.restart.name != "no") {
        // The monitor lives on through restarts: wait for this run's exit.
        std::string finished = record.finished;
        for (;;) {
            auto current = containers().find(record.id);
            if (!current) fail("container " + record.name + " was removed");
            auto reconciled = reconcile(*current);
            if (!reconciled) fail("container " + record.name + " was removed");
            if (!is_monitored(*reconciled) || reconciled->finished != finished)
                return static_cast<int>(reconciled->exit_code);
            close_database();
            wait_for_monitor(*reconciled, 50);
        }
    }
    if (is_monitored(record)) {
        wait_for_monitor(record, -1);
        auto current = containers().find(record.id);
        if (!current) fail("container " + record.name + " was removed when it exited");
        auto reconciled = reconcile(*current);
        if (!reconciled) fail("container " + record.name + " was removed when it exited");
        record = *reconciled;
    }
    return static_cast<int>(record.exit_code);
}

int Engine::exec(const std::string& reference, const ExecRequest& request) {
    ContainerRecord record = get(reference);
    if (record.state != ContainerState::running) fail("container " + record.id + " is not running");
    if (request.args.empty()) fail("exec: no command given");
    runtime::ExecOptions options;
    options.id = record.id;
    options.args = request.args;
    options.env = request.env;
    options.tty = request.tty;
    if (!request.workdir.empty()) options.cwd = request.workdir;
    if (!request.user.empty()) {
        ResolvedUser user =
            resolve_user_in_rootfs(request.user, container_dir(record.id) + "/rootfs");
        options.user = std::to_string(user.uid) + ":" + std::to_string(user.gid);
        options.additional_gids.assign(user.additional_gids.begin(), user.additional_gids.end());
        // Docker's: the user's groups, not the container user's as well.
        options.replace_additional_gids = true;
    }
    if (!request.interactive && !request.detach) {
        UniqueFd devnull = open_fd("/dev/null", O_RDONLY);
        if (::dup2(devnull.get(), STDIN_FILENO) < 0) throw_errno("redirecting standard input");
    }
    close_database();
    try {
        auto runtime = runtime_of_container(options_.run_root, record);
        if (!request.detach) return runtime->exec(options);
        exec_detached(*runtime, std::move(options), options_.run_root);
        return 0;
    } catch (const Error& error) {
        throw StartError(error.what(), exit_code_for_start_failure(error.what()));
    }
}

} // namespace berth::engine
