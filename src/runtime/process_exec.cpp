#include "process_exec.h"

#include "berth/base/c_strings.h"
#include "berth/base/error.h"
#include "berth/base/syscalls.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

bool is_executable_file(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

std::string find_executable(const std::string& name, const std::vector<std::string>& env) {
    if (name.find('/') != std::string::npos) {
        struct stat st;
        if (::stat(name.c_str(), &st) < 0) throw_errno("exec: \"" + name + "\"");
        if (S_ISDIR(st.st_mode)) fail("exec: \"" + name + "\": is a directory");
        if (!(st.st_mode & 0111)) fail("exec: \"" + name + "\": permission denied");
        return name;
    }
    std::string path = path_variable(env);
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string directory = path.substr(start, end - start);
        std::string candidate = (directory.empty() ? "." : directory) + "/" + name;
        if (is_executable_file(candidate)) return candidate;
        start = end + 1;
    }
    // The words runc uses; docker turns this message into exit code 127.
    fail("exec: \"" + name + "\": executable file not found in $PATH");
}

void set_rlimits(const oci::Process& process) {
    for (const auto& limit : process.rlimits) {
        rlimit value{limit.soft, limit.hard};
        if (::setrlimit(static_cast<__rlimit_resource>(limit.resource), &value) < 0)
            throw_errno("setting " + limit.type + " to soft " + std::to_string(limit.soft) +
                        ", hard " + std::to_string(limit.hard));
    }
}

void set_user(const oci::User& user) {
    std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
    // In a user namespace with setgroups denied, a list that adds nothing
    // (empty, or only the primary group, as engines give it) is refused
    // quietly; any real list is an error worth seeing.
    bool adds_nothing =
        std::all_of(groups.begin(), groups.end(), [&](gid_t gid) { return gid == user.gid; });
    if (::setgroups(groups.size(), groups.data()) < 0 && !(errno == EPERM && adds_nothing))
        throw_errno("setting supplementary groups");
    if (::setresgid(user.gid, user.gid, user.gid) < 0)
        throw_errno("setting gid to " + std::to_string(user.gid));
    if (::setresuid(user.uid, user.uid, user.uid) < 0)
        throw_errno("setting uid to " + std::to_string(user.uid));
}

// cwd is resolved inside the container root, never through a magic link such
// as /proc/self/fd/N, which could name a host directory (CVE-2024-21626).
void enter_cwd(const std::string& cwd) {
    UniqueFd root = open_fd("/", O_PATH | O_DIRECTORY);
    int fd = openat2_in_root(root.get(), cwd, O_PATH | O_DIRECTORY);
    if (fd < 0) throw_errno("changing directory to " + cwd);
    UniqueFd dir(fd);
    if (::fchdir(fd) < 0) throw_errno("changing directory to " + cwd);
}

// Only stdio and the preserved fds cross into the container; the rest close
// at exec, including any the runtime's caller leaked to it.
void close_other_fds(int preserve_fds) {
    mark_cloexec_from(3 + preserve_fds);
    for (int fd = 3; fd < 3 + preserve_fds; ++fd) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
}

} // namespace

std::string path_variable(const std::vector<std::string>& env) {
    for (const auto& entry : env)
        if (entry.rfind("PATH=", 0) == 0) return entry.substr(5);
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

PreparedProcess prepare_process(const oci::Process& process) {
    PreparedProcess prepared;
    set_rlimits(process);
    prepared.executable = find_executable(process.args.at(0), process.env);
    if (process.capabilities) prepared.capabilities = resolve_capabilities(*process.capabilities);
    return prepared;
}

namespace {

// Loads the filter and, with SCMP_ACT_NOTIFY, hands its fd to the agent.
void load_seccomp(const PreparedProcess& prepared) {
    int notify_fd = prepared.seccomp->load();
    if (notify_fd < 0) return;
    UniqueFd notify(notify_fd);
    seccomp::send_notify_fd(prepared.seccomp_listener, notify_fd, prepared.state_json,
                            prepared.seccomp->listener_metadata());
    ::close(prepared.seccomp_listener);
}

} // namespace

void enter_process(const oci::Process& process, const PreparedProcess& prepared, int preserve_fds) {
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
    // user change below may drop: load it now, as runc does. With it, load
    // last, so the filter has the fewest of our own syscalls to allow.
    bool seccomp_early = prepared.seccomp && !process.no_new_privileges;
    if (seccomp_early) load_seccomp(prepared);
    if (prepared.capabilities) drop_bounding_set(*prepared.capabilities);
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) throw_errno("keeping capabilities");
    set_user(process.user);
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) throw_errno("resetting keep-capabilities");
    if (prepared.capabilities) apply_capability_sets(*prepared.capabilities);
    if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        throw_errno("setting no_new_privs");
    ::umask(process.user.umask.value_or(022));
    enter_cwd(process.cwd);
    close_other_fds(preserve_fds);
    if (prepared.seccomp && !seccomp_early) load_seccomp(prepared);
}

void exec_prepared(const oci::Process& process, const PreparedProcess& prepared) {
    std::vector<char*> argv = c_string_array(process.args);
    std::vector<char*> envp = c_string_array(process.env);
    ::execve(prepared.executable.c_str(), argv.data(), envp.data());
    throw_errno("exec: \"" + process.args[0] + "\"");
}

void exec_process(const oci::Process& process, const PreparedProcess& prepared, int preserve_fds) {
    enter_process(process, prepared, preserve_fds);
    exec_prepared(process, prepared);
}

} // namespace berth::runtime
