// The user namespace every rootless berth command shares (see rootless.h).
#include "berth/engine/rootless.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/text.h"
#include "berth/engine/engine.h"
#include "berth/image/image_store.h"
#include "process_identity.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <pwd.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::engine {

namespace {

struct IdRange {
    unsigned long start = 0;
    unsigned long count = 0;
};

// The user's first range in /etc/subuid or /etc/subgid ("name:start:count",
// the name may also be the numeric id).
std::optional<IdRange> subordinate_range(const char* file, unsigned long id,
                                         const std::string& name) {
    std::string text;
    try {
        text = read_file(file);
    } catch (const Error&) {
        return std::nullopt;
    }
    for (const auto& line : split_lines(text)) {
        auto first = line.find(':'), second = line.rfind(':');
        if (first == std::string::npos || first == second) continue;
        std::string owner = line.substr(0, first);
        if (owner != std::to_string(id) && (name.empty() || owner != name)) continue;
        IdRange range;
        char* end = nullptr;
        range.start = std::strtoul(line.c_str() + first + 1, &end, 10);
        range.count = std::strtoul(line.c_str() + second + 1, &end, 10);
        if (range.count > 0) return range;
    }
    return std::nullopt;
}

bool executable(const char* path) {
    return ::access(path, X_OK) == 0;
}

// Runs `argv` (an absolute path first), quietly; its exit status.
int run_quietly(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw_errno("fork");
    if (child == 0) {
        int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            ::dup2(null, 1);
            ::dup2(null, 2);
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// Gives the pause process's namespace its id maps: the user's id as 0, and
// its subordinate ranges as 1..N when it has both and the setuid helpers
// exist; else the one id (with setgroups denied, as the kernel requires).
void write_id_maps(pid_t pid) {
    uid_t uid = ::getuid();
    gid_t gid = ::getgid();
    std::string name;
    if (passwd* entry = ::getpwuid(uid)) name = entry->pw_name;
    auto sub_uids = subordinate_range("/etc/subuid", uid, name);
    auto sub_gids = subordinate_range("/etc/subgid", uid, name);
    std::string target = std::to_string(pid);
    if (sub_uids && sub_gids && executable("/usr/bin/newuidmap") &&
        executable("/usr/bin/newgidmap")) {
        int uids = run_quietly({"/usr/bin/newuidmap", target, "0", std::to_string(uid), "1", "1",
                                std::to_string(sub_uids->start), std::to_string(sub_uids->count)});
        int gids =
            uids != 0
                ? 1
                : run_quietly({"/usr/bin/newgidmap", target, "0", std::to_string(gid), "1", "1",
                               std::to_string(sub_gids->start), std::to_string(sub_gids->count)});
        if (uids == 0 && gids == 0) return;
        if (uids == 0) fail("newgidmap refused the ranges /etc/subgid gives this user");
        std::fprintf(stderr, "berth: warning: newuidmap refused the /etc/subuid range; the "
                             "containers get only your own uid\n");
    }
    std::string proc = "/proc/" + target;
    write_existing_file(proc + "/setgroups", "deny");
    write_existing_file(proc + "/uid_map", "0 " + std::to_string(uid) + " 1");
    write_existing_file(proc + "/gid_map", "0 " + std::to_string(gid) + " 1");
}

[[noreturn]] void become_pause_process(int to_parent, int from_parent) {
    char byte = 'u';
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
        int err = errno;
        (void)!::write(to_parent, &err, sizeof err);
        ::_exit(1);
    }
    int none = 0;
    (void)!::write(to_parent, &none, sizeof none);
    if (::read(from_parent, &byte, 1) != 1) ::_exit(1);
    ::setsid();
    ::prctl(PR_SET_NAME, "berth-pause");
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
    }
    if (::chdir("/") < 0) ::_exit(1);
    // Nothing of the command that forked it stays open (its lock, its database).
    ::close_range(3, UINT_MAX, 0);
    for (;;)
        ::pause();
}

// Starts a pause process with a user and mount namespace of its own and
// its id maps; returns its pid.
pid_t start_pause_process() {
    int up[2], down[2];
    if (::pipe2(up, O_CLOEXEC) < 0 || ::pipe2(down, O_CLOEXEC) < 0)
        throw_errno("making the pause process's pipes");
    UniqueFd up_read(up[0]), up_write(up[1]), down_read(down[0]), down_write(down[1]);
    pid_t child = ::fork();
    if (child < 0) throw_errno("forking the pause process");
    if (child == 0) become_pause_process(up_write.get(), down_read.get());
    up_write.reset();
    down_read.reset();
    int err = -1;
    if (::read(up_read.get(), &err, sizeof err) != sizeof err || err != 0) {
        ::waitpid(child, nullptr, 0);
        if (err > 0)
            throw_errno("creating a user namespace (may unprivileged users here? see "
                        "kernel.unprivileged_userns_clone)",
                        err);
        fail("the pause process died while starting");
    }
    try {
        write_id_maps(child);
    } catch (...) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        throw;
    }
    char go = 'g';
    write_all(down_write.get(), std::string_view(&go, 1), "the pause process's pipe");
    return child;
}

void set_default(const char* name, const std::string& value) {
    const char* current = std::getenv(name);
    if (!current || !*current) ::setenv(name, value.c_str(), 1);
}

} // namespace

std::string pause_pid_path(const std::string& run_root) {
    return run_root + "/pause.pid";
}

void enter_rootless_namespace(char** argv) {
    if (::geteuid() == 0) return;
    // Computed as the user: inside, euid 0 would mean root's defaults.
    set_default("BERTH_ROOT", image::default_root());
    set_default("BERTH_RUNROOT", default_run_root());
    std::string run_root = absolute_path_of(std::getenv("BERTH_RUNROOT"));
    make_directories(run_root, 0700);
    pid_t pause = 0;
    {
        UniqueFd lock = open_fd(run_root + "/pause.lock", O_RDWR | O_CREAT, 0600);
        if (::flock(lock.get(), LOCK_EX) < 0) throw_errno("locking " + run_root + "/pause.lock");
        std::string pid_file = pause_pid_path(run_root);
        long pid = 0;
        long long start_time = 0;
        try {
            std::sscanf(read_file(pid_file).c_str(), "%ld %lld", &pid, &start_time);
        } catch (const Error&) {
        }
        if (pid > 0 && process_alive(static_cast<pid_t>(pid), start_time)) {
            pause = static_cast<pid_t>(pid);
        } else {
            pause = start_pause_process();
            write_file_atomic(pid_file, std::to_string(pause) + " " +
                                            std::to_string(process_start_time(pause)) + "\n");
        }
    }
    // setns of a mount namespace moves the cwd to its root: come back.
    char cwd[PATH_MAX];
    bool have_cwd = ::getcwd(cwd, sizeof cwd) != nullptr;
    std::string proc = "/proc/" + std::to_string(pause) + "/ns/";
    UniqueFd user = open_fd(proc + "user", O_RDONLY);
    UniqueFd mounts = open_fd(proc + "mnt", O_RDONLY);
    if (::setns(user.get(), CLONE_NEWUSER) < 0) throw_errno("joining the rootless user namespace");
    if (::setns(mounts.get(), CLONE_NEWNS) < 0) throw_errno("joining the rootless mount namespace");
    if (have_cwd && ::chdir(cwd) < 0) throw_errno(std::string("returning to ") + cwd);
    // Once more from the start, inside: a process's memory belongs to the
    // user namespace it was exec'd in, and the kernel lets /proc/PID/ns of
    // the containers' inits (forked from here) be opened only by those
    // privileged there.
    ::execv("/proc/self/exe", argv);
    throw_errno("re-executing berth in the rootless namespace");
}

} // namespace berth::engine
