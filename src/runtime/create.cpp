// `create`: from a bundle to an init waiting in its namespaces for `start`.
#include "create.h"

#include "berth/base/clock.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/log.h"
#include "berth/base/syscalls.h"
#include "berth/base/user_namespace.h"
#include "console.h"
#include "container_cgroup.h"
#include "hooks.h"
#include "namespaces.h"
#include "process_attributes.h"
#include "spawn.h"
#include "sync_channel.h"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

std::string absolute_path(const std::string& path, const std::string& what) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) throw_errno(what + " " + path);
    return resolved;
}

oci::Spec load_spec(const std::string& bundle, std::string& config_text) {
    config_text = read_file(bundle + "/config.json");
    oci::Spec spec =
        with_context("invalid config.json", [&] { return oci::parse_spec(config_text); });
    if (!spec.process) fail("invalid config.json: process: required to create a container");
    if (!spec.linux.find_namespace("mount"))
        fail("invalid config.json: linux.namespaces: a mount namespace is required");
    // A confinement that is asked for and not applied would be a silent lie.
    if (!spec.process->apparmor_profile.empty())
        fail("process.apparmorProfile: this host has no AppArmor support in berth-runtime");
    if (!spec.process->selinux_label.empty())
        fail("process.selinuxLabel: this host has no SELinux support in berth-runtime");
    if (!spec.linux.mount_label.empty())
        fail("linux.mountLabel: this host has no SELinux support in berth-runtime");
    if (!spec.linux.intel_rdt.is_null())
        fail(path_exists("/sys/fs/resctrl/schemata")
                 ? "linux.intelRdt: Intel RDT is not supported by berth-runtime yet"
                 : "linux.intelRdt: this host has no resctrl filesystem (Intel RDT)");
    validate_process_attributes(*spec.process, spec.linux);
    return spec;
}

// Talks the init through its setup until it reports "created".
// `while_init_works` runs right after "go", beside the init's own setup.
void guide_setup(const oci::Spec& spec, const CreateOptions& options, int sync_fd,
                 const std::string& state_json, UniqueFd& console_master,
                 const std::function<void()>& while_init_works) {
    send_sync(sync_fd, SyncType::go, state_json);
    try {
        if (while_init_works) while_init_works();
    } catch (const Error&) {
        // An init that failed meanwhile said why: that is the error to report.
        pollfd ready{sync_fd, POLLIN, 0};
        if (::poll(&ready, 1, 0) == 1) {
            SyncMessage message = receive_sync(sync_fd);
            if (message.type == SyncType::error) throw Error(message.text);
        }
        throw;
    }
    for (;;) {
        SyncMessage message = receive_sync(sync_fd);
        switch (message.type) {
        case SyncType::mounts_ready:
            run_hooks(spec.hooks.prestart, "prestart", state_json);
            run_hooks(spec.hooks.create_runtime, "createRuntime", state_json);
            send_sync(sync_fd, SyncType::hooks_done);
            break;
        case SyncType::console_master:
            if (options.console_socket.empty())
                console_master = std::move(message.fd);
            else
                send_console(options.console_socket, message.fd.get(), message.text);
            break;
        case SyncType::created:
            return;
        case SyncType::error:
        case SyncType::peer_closed:
            throw Error(message.text);
        default:
            fail("container setup: unexpected message from the init");
        }
    }
}

} // namespace

std::optional<seccomp::Filter> compile_seccomp(const oci::Spec& spec,
                                               const std::string& state_root) {
    if (spec.linux.seccomp.is_null()) return std::nullopt;
    // Compiling a long allow-list takes libseccomp milliseconds; the cache
    // under the state root makes a profile seen before cost a file read.
    return seccomp::Filter::compile(spec.linux.seccomp, state_root + "/" + seccomp_cache_name);
}

CreatedContainer create_container(StateStore& store, const CreateOptions& given_options,
                                  bool keep_console, const sigset_t* init_sigmask) {
    // Relative paths name places from where we were called; we will chdir.
    CreateOptions options = given_options;
    if (!options.pid_file.empty()) options.pid_file = absolute_path_of(options.pid_file);
    if (!options.console_socket.empty())
        options.console_socket = absolute_path_of(options.console_socket);
    std::string bundle = absolute_path(options.bundle, "bundle");
    std::string config_text;
    oci::Spec spec = load_spec(bundle, config_text);
    if (spec.process->terminal && options.console_socket.empty() && !keep_console)
        fail("process.terminal is true: --console-socket is required to receive the terminal");
    std::string rootfs_path = spec.root.path.empty() || spec.root.path[0] != '/'
                                  ? bundle + "/" + spec.root.path
                                  : spec.root.path;
    std::string rootfs = absolute_path(rootfs_path, "root filesystem");

    ContainerDir dir = store.create(options.id);
    ContainerRecord record;
    record.state = {spec.oci_version,
                    options.id,
                    oci::Status::creating,
                    0,
                    bundle,
                    spec.annotations,
                    rootfs,
                    rfc3339_now(),
                    ::geteuid() == 0 ? "root" : std::to_string(::geteuid())};
    record.creator_pid = ::getpid();
    record.creator_start_time = process_start_time(record.creator_pid);
    record.poststart_hooks = !spec.hooks.poststart.empty();
    record.poststop_hooks = !spec.hooks.poststop.empty();

    CreatedContainer created;
    std::optional<cgroups::Cgroup> cgroup;
    try {
        dir.write_config(config_text);
        cgroup = setup_cgroup(spec, options.id);
        UniqueFd cgroup_fd;
        if (cgroup) {
            record.cgroup_json = cgroup->to_json();
            cgroup_fd = cgroup->v2_directory_fd();
        }
        // One write, with the cgroup that delete must remove (each costs a
        // new file: ~0.35 ms where the state root is on disk). Until then
        // the directory reads as a create that never got going.
        dir.write_record(record);
        if (::mkfifo(dir.file("exec.fifo").c_str(), 0600) < 0) throw_errno("creating exec.fifo");
        // Read and write: the init holds both ends, so its blocking read only
        // ever returns with start's byte, and start's open finds a reader.
        UniqueFd fifo = open_fd(dir.file("exec.fifo"), O_RDWR);
        UniqueFd runtime_end, init_end;
        seqpacket_pair(runtime_end, init_end);

        InitContext context;
        context.spec = &spec;
        context.rootfs = rootfs;
        context.sync_fd = init_end.get();
        context.exec_fifo_fd = fifo.get();
        context.close_fd = dir.fd();
        context.cgroup_fd = cgroup_fd ? cgroup_fd.get() : -1;
        if (new_namespace_flags(spec) & CLONE_NEWNET)
            context.network_namespace_fd = options.network_namespace_fd;
        std::optional<seccomp::Filter> filter = compile_seccomp(spec, store.root());
        context.seccomp = filter ? &*filter : nullptr;
        context.preserve_fds = options.preserve_fds;
        if (!options.no_new_keyring) context.session_keyring = "_ses." + options.id;
        context.no_pivot = options.no_pivot;
        const oci::Namespace* user_ns = spec.linux.find_namespace("user");
        // Rootless berth runs the runtime as root of the user's namespace: no
        // device nodes or sysfs of the host's there either.
        context.in_user_namespace = user_ns != nullptr || !in_initial_user_namespace();
        context.new_user_namespace = user_ns && user_ns->path.empty();
        context.unshare_after_go = new_namespace_flags(spec) & CLONE_NEWCGROUP;
        context.pause_after_mounts = !spec.hooks.prestart.empty() ||
                                     !spec.hooks.create_runtime.empty() ||
                                     static_cast<bool>(options.while_init_mounts);
        context.init_sigmask = init_sigmask;

        // Moving a process between v1 cgroups waits for an RCU grace period
        // (5-15 ms here); the init can do its mounts meanwhile, told where
        // its cgroups are for the cgroup mount. It cannot exec before start,
        // which comes after create has returned. Moved before "go" when it
        // must be in its cgroup early: to unshare its cgroup namespace there,
        // or to run hooks whose processes must be inside.
        bool attach_while_init_works =
            cgroup && !cgroup_fd && !context.unshare_after_go && spec.hooks.prestart.empty() &&
            spec.hooks.create_runtime.empty() && spec.hooks.create_container.empty();
        if (attach_while_init_works)
            for (const auto& [hierarchy, placement] : cgroup->placements())
                context.cgroup_directories[placement.mount] = placement.directory;

        // Relative mount sources name paths in the bundle, as with runc.
        if (::chdir(bundle.c_str()) < 0) throw_errno("entering the bundle " + bundle);
        SpawnedInit init = spawn_init(context, runtime_end.get());
        created.pid = init.pid;
        created.pidfd = std::move(init.pidfd);
        init_end.reset();
        fifo.reset();
        if (cgroup && !cgroup_fd && !attach_while_init_works) cgroup->add_process(init.pid);

        if (context.new_user_namespace) write_id_mappings(init.pid, spec);
        if (spec.process->oom_score_adj)
            with_context("setting oomScoreAdj", [&] {
                write_existing_file("/proc/" + std::to_string(init.pid) + "/oom_score_adj",
                                    std::to_string(*spec.process->oom_score_adj));
            });
        record.state.pid = init.pid;
        record.pid_start_time = process_start_time(init.pid);
        guide_setup(spec, options, runtime_end.get(), oci::state_to_json(record.state),
                    created.console_master, [&] {
                        if (attach_while_init_works) {
                            try {
                                cgroup->add_process(init.pid);
                            } catch (const Error& error) {
                                // An init that failed has gone: its own message follows.
                                if (error.errno_value() != ESRCH) throw;
                            }
                        }
                        if (options.while_init_mounts) options.while_init_mounts(init.pid);
                    });

        created.started = options.start_at_once && spec.hooks.poststart.empty();
        if (created.started) dir.release_init(options.id);
        record.state.status = created.started ? oci::Status::running : oci::Status::created;
        dir.write_record(record);
        if (!options.pid_file.empty())
            write_file_atomic(options.pid_file, std::to_string(init.pid), 0644);
    } catch (...) {
        // A failed create leaves nothing behind: no process, no state.
        if (created.pidfd) {
            pidfd_send_signal(created.pidfd.get(), SIGKILL);
            ::waitpid(created.pid, nullptr, 0);
        }
        if (cgroup) {
            try {
                cgroup->destroy();
            } catch (...) {
            }
        }
        try {
            dir.remove();
        } catch (...) {
        }
        throw;
    }
    return created;
}

} // namespace berth::runtime
