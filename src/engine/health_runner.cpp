// Engine::run_healthcheck and Engine::health: one check run in the
// container (through `berth exec`, so any runtime's exec serves), its
// result folded into <container>/health.json under a lock.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/engine/engine.h"
#include "berth/engine/healthcheck.h"
#include "berth/engine/identity.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::engine {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t max_output = 4096; // Docker's

std::optional<HealthcheckRequest> check_of(const ContainerRecord& record) {
    json request = json::parse(record.config_json, nullptr, false);
    if (!request.is_object() || !request.contains("healthcheck")) return std::nullopt;
    return effective_healthcheck(request["healthcheck"].get<HealthcheckRequest>(), std::nullopt);
}

// Seconds since the epoch of an RFC 3339 UTC time ("...T10:00:00.123Z").
double epoch_seconds(const std::string& time) {
    std::tm parts{};
    const char* rest = ::strptime(time.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
    if (!rest) return 0;
    double seconds = static_cast<double>(::timegm(&parts));
    if (*rest == '.') seconds += std::atof(rest);
    return seconds;
}

double now_epoch_seconds() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9;
}

// The stored state if it belongs to this run of the container (a restart starts afresh).
HealthState load_state(const std::string& path, const std::string& started) {
    try {
        json stored = json::parse(read_file(path), nullptr, false);
        if (stored.is_object() && stored.value("ContainerStarted", "") == started)
            return health_state_from_json(stored);
    } catch (const Error&) {
    }
    return HealthState();
}

// Runs `argv` with stdout and stderr into one pipe; kills it after `timeout_ns`.
HealthResult run_check(const std::vector<std::string>& argv, std::int64_t timeout_ns) {
    HealthResult result;
    result.start = now_rfc3339_nano();
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0) throw_errno("creating the health check's pipe");
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    UniqueFd devnull = open_fd("/dev/null", O_RDONLY);
    std::vector<char*> args;
    for (const auto& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw_errno("starting the health check");
    if (child == 0) {
        // A group of its own: on a timeout the check's process goes with it.
        ::setpgid(0, 0);
        ::dup2(devnull.get(), STDIN_FILENO);
        ::dup2(write_end.get(), STDOUT_FILENO);
        ::dup2(write_end.get(), STDERR_FILENO);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    write_end.reset();
    auto deadline = Clock::now() + std::chrono::nanoseconds(timeout_ns);
    bool timed_out = false;
    char buffer[4096];
    for (;;) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd ready{read_end.get(), POLLIN, 0};
        int polled = ::poll(&ready, 1, static_cast<int>(left));
        if (polled < 0 && errno == EINTR) continue;
        if (polled == 0) continue;
        ssize_t got = ::read(read_end.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        if (result.output.size() < max_output)
            result.output.append(
                buffer, std::min(static_cast<std::size_t>(got), max_output - result.output.size()));
    }
    if (timed_out) ::kill(-child, SIGKILL);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    // What the killed `exec` left is ours (a subreaper): reaped, so that no
    // zombie keeps the container's cgroup busy.
    for (int tries = 0; timed_out && tries < 50; ++tries) {
        pid_t reaped = ::waitpid(-1, nullptr, WNOHANG);
        if (reaped < 0) break;
        if (reaped == 0) ::usleep(2000);
    }
    result.end = now_rfc3339_nano();
    if (timed_out) {
        result.exit_code = -1;
        result.output = "Health check exceeded timeout (" + format_go_duration(timeout_ns) + ")";
    } else {
        result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return result;
}

} // namespace

std::optional<HealthState> Engine::health(const ContainerRecord& record) {
    std::optional<HealthcheckRequest> check;
    try {
        check = check_of(record);
    } catch (const Error&) {
    }
    if (!check) return std::nullopt;
    return load_state(container_dir(record.id) + "/health.json", record.started);
}

HealthState Engine::run_healthcheck(const std::string& reference) {
    ContainerRecord record = get(reference);
    std::optional<HealthcheckRequest> check = check_of(record);
    if (!check) fail("container " + record.name + " has no healthcheck configured");
    if (record.state != ContainerState::running || record.paused)
        fail("container " + record.name + " is not running");
    // /proc/self/exe, not its target: berth may run from a detached mount.
    std::vector<std::string> argv{"/proc/self/exe", "--root", options_.root, "exec", record.id};
    for (const auto& word : healthcheck_command(*check))
        argv.push_back(word);
    ::setenv("BERTH_RUNROOT", options_.run_root.c_str(), 1);
    close_database();
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    HealthResult result = run_check(argv, check->timeout_ns);
    // `berth exec`'s own failures (125-127) are failures of the check too.
    std::string dir = container_dir(record.id);
    UniqueFd lock = open_fd(dir + "/health.lock", O_RDWR | O_CREAT, 0600);
    while (::flock(lock.get(), LOCK_EX) < 0)
        if (errno != EINTR) throw_errno("locking the health state of " + record.name);
    HealthState state = load_state(dir + "/health.json", record.started);
    bool in_start_period = now_epoch_seconds() - epoch_seconds(record.started) <
                           static_cast<double>(check->start_period_ns) / 1e9;
    record_health_result(state, result, *check, in_start_period);
    json stored = health_state_to_json(state);
    stored["ContainerStarted"] = record.started;
    write_file_atomic(dir + "/health.json", stored.dump());
    return state;
}

} // namespace berth::engine
