// The OCI lifecycle operations after create: start, state, kill, delete, run.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/log.h"
#include "berth/base/syscalls.h"
#include "berth/runtime/runtime.h"
#include "container_cgroup.h"
#include "create.h"
#include "foreground.h"
#include "hooks.h"

#include <cerrno>
#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

std::optional<oci::Spec> saved_spec(const ContainerDir& dir) {
    try {
        return oci::parse_spec(dir.read_config());
    } catch (const Error&) {
        return std::nullopt;
    }
}

oci::State current_state(const ContainerDir& dir) {
    ContainerRecord record = dir.read_record();
    record.state.status = dir.current_status(record);
    if (record.state.status == oci::Status::running ||
        record.state.status == oci::Status::created) {
        try {
            auto cgroup = saved_cgroup(record.cgroup_json);
            if (cgroup && cgroup->frozen()) record.state.status = oci::Status::paused;
        } catch (const Error&) {
        }
    }
    if (record.state.status == oci::Status::stopped) record.state.pid = 0;
    return record.state;
}

// A pidfd for the init only if it still is the process we started.
UniqueFd open_init(const ContainerRecord& record) {
    int fd = pidfd_open(record.state.pid);
    if (fd < 0) return UniqueFd();
    UniqueFd pidfd(fd);
    if (!process_is_alive(record.state.pid, record.pid_start_time)) return UniqueFd();
    return pidfd;
}

// Every process whose pid namespace is the init's; empty when the init shares
// a namespace with others, since then "all" cannot be told apart without cgroups.
std::vector<pid_t> processes_in_pid_namespace_of(pid_t init) {
    std::vector<pid_t> pids;
    char target[128], own[128];
    std::string init_ns = "/proc/" + std::to_string(init) + "/ns/pid";
    ssize_t n = ::readlink(init_ns.c_str(), target, sizeof target - 1);
    ssize_t m = ::readlink("/proc/self/ns/pid", own, sizeof own - 1);
    if (n <= 0 || m <= 0) return pids;
    target[n] = own[m] = '\0';
    if (std::string(target) == own) return pids;
    DIR* proc = ::opendir("/proc");
    if (!proc) return pids;
    while (dirent* entry = ::readdir(proc)) {
        pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
        if (pid <= 0) continue;
        char ns[128];
        std::string link = "/proc/" + std::to_string(pid) + "/ns/pid";
        ssize_t k = ::readlink(link.c_str(), ns, sizeof ns - 1);
        if (k <= 0) continue;
        ns[k] = '\0';
        if (std::string(ns) == target) pids.push_back(pid);
    }
    ::closedir(proc);
    return pids;
}

void kill_and_wait(const ContainerRecord& record) {
    UniqueFd init = open_init(record);
    if (auto cgroup = saved_cgroup(record.cgroup_json)) {
        cgroup->kill_all(SIGKILL);
        // A v1-frozen process acts on SIGKILL only once thawed.
        try {
            if (cgroup->frozen()) cgroup->thaw();
        } catch (const Error&) {
        }
    }
    if (!init) return;
    for (pid_t pid : processes_in_pid_namespace_of(record.state.pid))
        ::kill(pid, SIGKILL);
    pidfd_send_signal(init.get(), SIGKILL);
    // Done when it has exited, or is exiting and only waits in the kernel
    // for its namespace's zombies to be reaped by their (other) parents.
    for (int waited_ms = 0; waited_ms < 10000; waited_ms += 10) {
        pollfd exited{init.get(), POLLIN, 0};
        if (::poll(&exited, 1, 10) > 0) return;
        if (!process_is_alive(record.state.pid, record.pid_start_time)) return;
    }
    fail("the container's init did not die after SIGKILL");
}

} // namespace

// Absolute: create changes directory to the bundle before it writes state.
Runtime::Runtime(std::string state_root) : root_(absolute_path_of(state_root)) {}

void Runtime::create(const CreateOptions& options) {
    StateStore store(root_);
    create_container(store, options, false, nullptr);
}

UniqueFd Runtime::create_keeping_console(const CreateOptions& options) {
    StateStore store(root_);
    return std::move(create_container(store, options, true, nullptr).console_master);
}

UniqueFd Runtime::create_and_start(CreateOptions options, bool keep_console) {
    options.start_at_once = true;
    StateStore store(root_);
    CreatedContainer created = create_container(store, options, keep_console, nullptr);
    if (!created.started) start(options.id);
    return std::move(created.console_master);
}

void Runtime::start(const std::string& id) {
    StateStore store(root_);
    ContainerDir dir = store.open(id);
    ContainerRecord record = dir.read_record();
    oci::Status status = dir.current_status(record);
    if (status != oci::Status::created)
        fail("cannot start container \"" + id + "\": it is " + oci::status_name(status) +
             ", not created");
    dir.release_init(id);
    // "running" needs no write: with the fifo gone, that is what it reads as.
    record.state.status = oci::Status::running;
    if (!record.poststart_hooks) return;
    if (auto spec = saved_spec(dir); spec && !spec->hooks.poststart.empty())
        run_hooks_warning_only(spec->hooks.poststart, "poststart",
                               oci::state_to_json(record.state));
}

oci::State Runtime::state(const std::string& id) {
    StateStore store(root_);
    return current_state(store.open_for_reading(id));
}

std::vector<oci::State> Runtime::list() {
    StateStore store(root_);
    std::vector<oci::State> states;
    for (const auto& id : store.ids()) {
        try {
            states.push_back(current_state(store.open_for_reading(id)));
        } catch (const Error&) {
            // Deleted while listing.
        }
    }
    return states;
}

void Runtime::kill(const std::string& id, int signal, bool all) {
    StateStore store(root_);
    ContainerDir dir = store.open(id);
    ContainerRecord record = dir.read_record();
    oci::Status status = dir.current_status(record);
    // A paused container takes signals too; they act when it is resumed.
    if (status != oci::Status::created && status != oci::Status::running &&
        status != oci::Status::paused)
        fail("container not running");
    UniqueFd init = open_init(record);
    if (!init) fail("container not running");
    if (all) {
        if (auto cgroup = saved_cgroup(record.cgroup_json)) {
            cgroup->kill_all(signal);
            return;
        }
        for (pid_t pid : processes_in_pid_namespace_of(record.state.pid))
            if (pid != record.state.pid) ::kill(pid, signal);
    }
    if (pidfd_send_signal(init.get(), signal) < 0) {
        if (errno == ESRCH) fail("container not running");
        throw_errno("sending signal " + std::to_string(signal) + " to " + id);
    }
}

void Runtime::remove(const std::string& id, bool force) {
    StateStore store(root_);
    // As runc: forcing the deletion of what is already gone succeeds, so a
    // caller cleaning up after a crash need not know how far things got.
    if (force && !store.exists(id)) return;
    ContainerDir dir = store.open(id);
    ContainerRecord record = dir.read_record();
    oci::Status status = dir.current_status(record);
    if (status != oci::Status::stopped) {
        if (!force)
            fail("cannot delete container \"" + id +
                 "\" that is not stopped: " + oci::status_name(status));
        kill_and_wait(record);
    }
    record.state.status = oci::Status::stopped;
    record.state.pid = 0;
    // Whatever is left in the cgroup (a process that left the pid namespace's
    // reach, say) goes with it.
    if (auto cgroup = saved_cgroup(record.cgroup_json)) cgroup->destroy();
    if (record.poststop_hooks)
        if (auto spec = saved_spec(dir); spec && !spec->hooks.poststop.empty())
            run_hooks_warning_only(spec->hooks.poststop, "poststop",
                                   oci::state_to_json(record.state));
    dir.remove();
}

int Runtime::run(const CreateOptions& options, bool detach) {
    StateStore store(root_);
    if (detach) {
        create_and_start(options, false);
        return 0;
    }
    sigset_t forwarded = forwarded_signals(), previous;
    ::sigprocmask(SIG_BLOCK, &forwarded, &previous);
    CreatedContainer created = create_container(store, options, true, &previous);
    int status;
    try {
        start(options.id);
        status = wait_in_foreground(created.pid, created.pidfd.get(),
                                    created.console_master ? created.console_master.get() : -1);
    } catch (...) {
        try {
            remove(options.id, true);
        } catch (...) {
        }
        throw;
    }
    remove(options.id, true);
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    return status;
}

} // namespace berth::runtime
