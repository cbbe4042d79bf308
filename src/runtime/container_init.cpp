#include "container_init.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "console.h"
#include "hooks.h"
#include "process_attributes.h"
#include "process_exec.h"
#include "rootfs.h"
#include "sync_channel.h"

#include <cerrno>
#include <csignal>
#include <linux/keyctl.h>
#include <optional>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

void set_names(const oci::Spec& spec) {
    if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) < 0)
        throw_errno("setting the hostname to " + spec.hostname);
    if (!spec.domainname.empty() &&
        ::setdomainname(spec.domainname.data(), spec.domainname.size()) < 0)
        throw_errno("setting the domain name to " + spec.domainname);
}

void write_sysctls(const oci::Spec& spec) {
    for (const auto& [key, value] : spec.linux.sysctl) {
        std::string path = "/proc/sys/";
        for (char c : key)
            path += c == '.' ? '/' : c;
        with_context("setting sysctl " + key + "=" + value,
                     [&] { write_existing_file(path, value); });
    }
}

// A session keyring of the container's own, so it cannot read or add to the
// keys of whoever started the runtime (runc does the same).
void join_new_session_keyring(const std::string& name) {
    if (name.empty()) return;
    if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) >= 0) return;
    // Kernels without keys, and some user namespaces, cannot have one.
    if (errno == ENOSYS || errno == EACCES || errno == EPERM || errno == EDQUOT) return;
    throw_errno("creating a session keyring for the container");
}

// Blocks until `start` writes its byte into exec.fifo.
void wait_for_start(int fifo_fd) {
    char byte;
    ssize_t n;
    do {
        n = ::read(fifo_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) throw_errno("waiting for start");
    ::close(fifo_fd);
}

} // namespace

void container_init(const InitContext& context) noexcept {
    const oci::Spec& spec = *context.spec;
    bool created = false;
    try {
        ::close(context.close_fd);
        if (context.init_sigmask) ::sigprocmask(SIG_SETMASK, context.init_sigmask, nullptr);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        ::signal(SIGPIPE, SIG_DFL);

        std::string state_json = expect_sync(context.sync_fd, SyncType::go).text;
        // No other process may read our memory or /proc/self/exe while we are
        // still the runtime's binary (the class of CVE-2019-5736). Not before
        // "go": a non-dumpable process's id maps can be written only by root.
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (context.new_user_namespace && (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0))
            throw_errno("becoming root in the new user namespace");
        if (context.unshare_after_go && ::unshare(static_cast<int>(context.unshare_after_go)) < 0)
            throw_errno("creating the cgroup namespace");
        set_names(spec);
        join_new_session_keyring(context.session_keyring);

        MountContext mount_context{context.in_user_namespace, context.unshare_after_go != 0,
                                   context.cgroup_directories};
        UniqueFd root = prepare_rootfs(spec, context.rootfs, mount_context);
        if (context.pause_after_mounts) {
            send_sync(context.sync_fd, SyncType::mounts_ready);
            expect_sync(context.sync_fd, SyncType::hooks_done);
        }
        run_hooks(spec.hooks.create_container, "createContainer", state_json);
        root.reset();
        // The agent's socket path is a host path: connect while we see it.
        UniqueFd seccomp_listener;
        if (context.seccomp && context.seccomp->wants_notify())
            seccomp_listener = seccomp::connect_listener(context.seccomp->listener_path());
        switch_root(context.rootfs, context.no_pivot);

        std::optional<Console> console;
        if (spec.process->terminal) {
            console = open_console(*spec.process);
            send_sync(context.sync_fd, SyncType::console_master, console->slave_name,
                      console->master.get());
            console->master.reset();
            // Now, not at exec: our caller's stdio must close in us before
            // create returns, or a caller reading create's output to its end
            // (containerd's shim) waits for as long as the container lives.
            attach_console(console->slave.get());
            console->slave.reset();
        }
        // Before finish_rootfs: /proc/sys is among the usual read-only paths.
        write_sysctls(spec);
        finish_rootfs(spec);
        apply_process_attributes(*spec.process, spec.linux);
        PreparedProcess prepared = prepare_process(*spec.process);
        prepared.seccomp = context.seccomp;
        prepared.seccomp_listener = seccomp_listener.release();
        prepared.state_json = state_json;
        // All but the exec before we count as created, as runc's init does:
        // a bad user or cwd fails create, and start waits only for the exec.
        // (So startContainer hooks run as the process's user, confined, as
        // with runc.)
        enter_process(*spec.process, prepared, context.preserve_fds);

        // From here the runtime may exit: its death must not kill us.
        ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        send_sync(context.sync_fd, SyncType::created);
        created = true;
        ::close(context.sync_fd);

        wait_for_start(context.exec_fifo_fd);
        run_hooks(spec.hooks.start_container, "startContainer", state_json);
        exec_prepared(*spec.process, prepared);
    } catch (const std::exception& error) {
        std::string message = error.what();
        if (!created) {
            try {
                send_sync(context.sync_fd, SyncType::error, message);
            } catch (...) {
            }
        } else {
            message = "berth-runtime: " + message + "\n";
            [[maybe_unused]] ssize_t ignored =
                ::write(STDERR_FILENO, message.data(), message.size());
        }
    }
    _exit(created ? 127 : 1);
}

} // namespace berth::runtime
