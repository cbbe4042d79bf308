// `exec`: a new process inside a running container. An intermediate child
// enters every namespace of the container's init at once (setns on a pidfd)
// and clones the process as our own child, which then becomes the process
// the options describe, exactly as the init does before its exec.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/runtime/runtime.h"
#include "console.h"
#include "container_cgroup.h"
#include "create.h"
#include "foreground.h"
#include "namespaces.h"
#include "path_in_root.h"
#include "process_attributes.h"
#include "process_exec.h"
#include "state_store.h"
#include "sync_channel.h"

#include <cerrno>
#include <csignal>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

struct Target {
    oci::Spec spec;
    pid_t init_pid = 0;
    UniqueFd init_pidfd;
    std::string cgroup_json;
    std::string state_json; // for a seccomp agent
};

Target find_running_container(const std::string& root, const std::string& id) {
    StateStore store(root);
    ContainerDir dir = store.open(id);
    ContainerRecord record = dir.read_record();
    oci::Status status = dir.current_status(record);
    if (status != oci::Status::created && status != oci::Status::running)
        fail("cannot exec in a " + std::string(oci::status_name(status)) + " container");
    Target target;
    target.spec = oci::parse_spec(dir.read_config());
    target.init_pid = record.state.pid;
    target.cgroup_json = record.cgroup_json;
    target.state_json = oci::state_to_json(record.state);
    int pidfd = pidfd_open(record.state.pid);
    if (pidfd < 0) fail("cannot exec in a stopped container");
    target.init_pidfd.reset(pidfd);
    // Opened before checking, so a pid reused since cannot slip in.
    if (!process_is_alive(record.state.pid, record.pid_start_time))
        fail("cannot exec in a stopped container");
    return target;
}

void set_env(std::vector<std::string>& env, const std::string& entry) {
    auto equals = entry.find('=');
    std::string key = entry.substr(0, equals);
    for (auto& existing : env) {
        if (existing.compare(0, key.size() + 1, key + "=") == 0) {
            existing = entry;
            return;
        }
    }
    env.push_back(entry);
}

void parse_user(const std::string& text, oci::User& user) {
    try {
        auto colon = text.find(':');
        std::size_t used = 0;
        user.uid = static_cast<std::uint32_t>(std::stoul(text.substr(0, colon), &used));
        if (used != text.substr(0, colon).size()) throw std::invalid_argument(text);
        if (colon != std::string::npos) {
            std::string gid = text.substr(colon + 1);
            user.gid = static_cast<std::uint32_t>(std::stoul(gid, &used));
            if (used != gid.size()) throw std::invalid_argument(text);
        }
    } catch (const std::exception&) {
        fail("--user: expected uid[:gid] as numbers, not \"" + text + "\"");
    }
}

// The process to run: --process's whole, or the container's own with changes.
oci::Process build_process(const ExecOptions& options, const oci::Spec& spec) {
    if (!options.process_json.empty())
        return with_context("--process",
                            [&] { return oci::parse_process_json(options.process_json); });
    if (options.args.empty()) fail("exec: a command to run is required (or --process FILE)");
    oci::Process process = *spec.process;
    process.args = options.args;
    process.terminal = options.tty;
    process.console_size.reset();
    for (const auto& entry : options.env)
        set_env(process.env, entry);
    if (options.cwd) process.cwd = *options.cwd;
    if (options.user) parse_user(*options.user, process.user);
    if (options.replace_additional_gids) process.user.additional_gids.clear();
    for (unsigned gid : options.additional_gids)
        process.user.additional_gids.push_back(gid);
    if (options.no_new_privileges) process.no_new_privileges = true;
    if (!options.add_capabilities.empty()) {
        if (!process.capabilities) process.capabilities.emplace();
        for (const auto& cap : options.add_capabilities)
            for (auto* set : {&process.capabilities->bounding, &process.capabilities->effective,
                              &process.capabilities->permitted})
                set->push_back(cap);
    }
    return process;
}

// Moves `pid` into sub-cgroups of the container's: "sub" in every hierarchy,
// "controller:sub" in that one; created if missing, never above the
// container's own directory.
void join_sub_cgroups(const cgroups::Cgroup& cgroup, const std::vector<std::string>& requests,
                      pid_t pid) {
    for (const std::string& request : requests) {
        auto colon = request.find(':');
        std::string controller = colon == std::string::npos ? "" : request.substr(0, colon);
        std::string sub =
            clean_path(colon == std::string::npos ? request : request.substr(colon + 1));
        bool placed = false;
        for (const auto& [hierarchy, placement] : cgroup.placements()) {
            if (!controller.empty() && hierarchy != controller) continue;
            std::string directory = placement.directory + sub;
            make_directories(directory);
            // A new v1 cpuset cgroup starts with no cpus or mems, and takes
            // no process until it has some: give it the container's.
            for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
                std::string parent = placement.directory + "/" + file;
                std::string own = directory + "/" + file;
                if (path_exists(own) &&
                    read_file(own).find_first_not_of(" \n") == std::string::npos)
                    write_existing_file(own, read_file(parent));
            }
            with_context("exec --cgroup " + request, [&] {
                write_existing_file(directory + "/cgroup.procs", std::to_string(pid));
            });
            placed = true;
        }
        if (!placed) fail("exec --cgroup " + request + ": the container has no such hierarchy");
    }
}

int namespace_flags_of(const oci::Spec& spec) {
    int flags = 0;
    for (const auto& ns : spec.linux.namespaces)
        flags |= namespace_clone_flag(ns.type);
    return flags;
}

// In the process cloned inside the container: become `process`, exec it.
struct SeccompStep {
    const seccomp::Filter* filter;
    int listener;
};

[[noreturn]] void become_process(const oci::Process& process, const oci::Linux& spec_linux,
                                 int sync_fd, int preserve_fds, const sigset_t* sigmask,
                                 SeccompStep seccomp, const std::string& state_json) {
    try {
        ::sigprocmask(SIG_SETMASK, sigmask, nullptr);
        expect_sync(sync_fd, SyncType::go);
        if (process.terminal) {
            Console console = open_console(process);
            send_sync(sync_fd, SyncType::console_master, console.slave_name, console.master.get());
            attach_console(console.slave.get());
        }
        apply_process_attributes(process, spec_linux);
        PreparedProcess prepared = prepare_process(process);
        prepared.seccomp = seccomp.filter;
        prepared.seccomp_listener = seccomp.listener;
        prepared.state_json = state_json;
        exec_process(process, prepared, preserve_fds);
    } catch (const std::exception& error) {
        try {
            send_sync(sync_fd, SyncType::error, error.what());
        } catch (...) {
        }
    }
    _exit(127);
}

[[noreturn]] void enter_and_clone(const Target& target, const oci::Process& process, int sync_fd,
                                  int preserve_fds, const sigset_t* sigmask, SeccompStep seccomp) {
    try {
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        int flags = namespace_flags_of(target.spec);
        if (flags && ::setns(target.init_pidfd.get(), flags) < 0)
            throw_errno("joining the container's namespaces");
        pid_t pid = clone3_fork(CLONE_PARENT, nullptr, SIGCHLD);
        if (pid == 0)
            become_process(process, target.spec.linux, sync_fd, preserve_fds, sigmask, seccomp,
                           target.state_json);
        send_sync(sync_fd, SyncType::init_pid, std::to_string(pid));
        _exit(0);
    } catch (const std::exception& error) {
        try {
            send_sync(sync_fd, SyncType::error, error.what());
        } catch (...) {
        }
        _exit(1);
    }
}

} // namespace

int Runtime::exec(const ExecOptions& given) {
    ExecOptions options = given;
    if (!options.pid_file.empty()) options.pid_file = absolute_path_of(options.pid_file);
    if (!options.console_socket.empty())
        options.console_socket = absolute_path_of(options.console_socket);
    Target target = find_running_container(root_, options.id);
    oci::Process process = build_process(options, target.spec);
    if (!process.apparmor_profile.empty())
        fail("process.apparmorProfile: this host has no AppArmor support in berth-runtime");
    if (process.terminal && options.console_socket.empty() && options.detach)
        fail("exec: a terminal for a detached process needs --console-socket");

    std::optional<seccomp::Filter> filter = compile_seccomp(target.spec, root_);
    UniqueFd seccomp_listener;
    if (filter && filter->wants_notify())
        seccomp_listener = seccomp::connect_listener(filter->listener_path());

    sigset_t forwarded = forwarded_signals(), previous;
    ::sigprocmask(SIG_BLOCK, &forwarded, &previous);
    UniqueFd runtime_end, process_end;
    seqpacket_pair(runtime_end, process_end);
    pid_t helper = clone3_fork(0, nullptr, SIGCHLD);
    if (helper == 0) {
        runtime_end.reset();
        SeccompStep step{filter ? &*filter : nullptr, seccomp_listener.get()};
        enter_and_clone(target, process, process_end.get(), options.preserve_fds, &previous, step);
    }
    process_end.reset();
    SyncMessage first = receive_sync(runtime_end.get());
    ::waitpid(helper, nullptr, 0);
    if (first.type != SyncType::init_pid) throw Error(first.text);
    pid_t pid = static_cast<pid_t>(std::stol(first.text));
    UniqueFd pidfd(pidfd_open(pid));

    UniqueFd console_master;
    try {
        if (auto cgroup = saved_cgroup(target.cgroup_json)) {
            cgroup->add_process(pid);
            join_sub_cgroups(*cgroup, options.sub_cgroups, pid);
        } else if (!options.sub_cgroups.empty()) {
            fail("exec --cgroup: the container has no cgroup");
        }
        send_sync(runtime_end.get(), SyncType::go);
        // Messages until the exec closes our socket (it is close-on-exec).
        for (;;) {
            SyncMessage message = receive_sync(runtime_end.get());
            if (message.type == SyncType::console_master) {
                if (options.console_socket.empty())
                    console_master = std::move(message.fd);
                else
                    send_console(options.console_socket, message.fd.get(), message.text);
                continue;
            }
            if (message.type == SyncType::peer_closed) break; // exec'd
            if (message.type == SyncType::error) throw Error(message.text);
            fail("exec: unexpected message from the new process");
        }
    } catch (...) {
        pidfd_send_signal(pidfd.get(), SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw;
    }
    if (!options.pid_file.empty()) write_file_atomic(options.pid_file, std::to_string(pid), 0644);
    if (options.detach) {
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        return 0;
    }
    int status = wait_in_foreground(pid, pidfd.get(), console_master ? console_master.get() : -1);
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    return status;
}

} // namespace berth::runtime
