#include "attach_protocol.h"
#include "berth/base/cpu_placement.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/database.h"
#include "berth/network/netns.h"
#include "berth/runtime/cgroups.h"
#include "monitor.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <optional>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::engine {

namespace {

void reset_signals() {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal = 1; signal < NSIG; ++signal)
        if (signal != SIGKILL && signal != SIGSTOP) ::signal(signal, SIG_DFL);
    // A vanished attached command must not kill the monitor.
    ::signal(SIGPIPE, SIG_IGN);
}

std::vector<std::string> split_words(const std::string& payload) {
    std::vector<std::string> words;
    std::size_t begin = 0;
    while (begin < payload.size()) {
        std::size_t end = payload.find('\0', begin);
        if (end == std::string::npos) end = payload.size();
        words.push_back(payload.substr(begin, end - begin));
        begin = end + 1;
    }
    return words;
}

EarlyWork decode_early_work(const std::string& payload) {
    EarlyWork work;
    for (const auto& word : split_words(payload)) {
        if (word.starts_with("cgroups="))
            work.cgroups_path = word.substr(8);
        else if (word.starts_with("id="))
            work.id = word.substr(3);
        else if (word == "network-namespace")
            work.network_namespace = true;
    }
    if (work.cgroups_path.empty()) work.id.clear();
    return work;
}

// The monitor process, from its fork until it has its plan.
int wait_for_plan(int control, const std::string& database_path) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    // What `ps` shows instead of the starter's name.
    ::prctl(PR_SET_NAME, "berth-monitor");
    [[maybe_unused]] int ignored = ::chdir("/");
    // An inherited fd could hold a lock (the image store's) or a pipe open
    // for as long as the container runs; the starter's stdio, a caller
    // reading its output to the end.
    close_fds_except({control});
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
        for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
            ::dup2(null, fd);
        if (null > STDERR_FILENO) ::close(null);
    }
    reset_signals();
    std::optional<runtime::cgroups::Cgroup> early_cgroup;
    UniqueFd network_namespace;
    Frame frame = receive_frame(control);
    bool prepare = frame.type == FrameType::prepare && !frame.closed;
    if (prepare) {
        // Only a head start: the runtime's create makes what is missing,
        // and reports what fails.
        EarlyWork work = decode_early_work(frame.payload);
        if (!work.id.empty()) {
            try {
                // Made by the starter: ours to remove if no plan comes.
                early_cgroup = runtime::cgroups::Cgroup::for_container(work.cgroups_path, work.id);
            } catch (const Error&) {
            }
        }
        if (work.network_namespace) {
            try {
                network_namespace = network::new_network_namespace();
            } catch (const Error&) {
            }
        }
    }
    // While the starter works. A database that is not there yet is the
    // starter's to create: the monitor opens it when it needs it.
    std::unique_ptr<image::Database> database;
    if (!frame.closed && path_exists(database_path)) {
        try {
            database = std::make_unique<image::Database>(database_path);
        } catch (const Error&) {
            // Opened again when needed, where the error is reported.
        }
    }
    if (prepare) frame = receive_frame(control);
    // The starter failed (a missing image, a bad option) or went: nothing
    // was made for us to watch, and what we made goes.
    if (frame.closed || frame.type != FrameType::plan) {
        if (early_cgroup) {
            try {
                early_cgroup->destroy();
            } catch (const Error&) {
            }
        }
        return 0;
    }
    MonitorPlan plan;
    try {
        plan = decode_monitor_plan(split_words(frame.payload));
    } catch (const Error& error) {
        send_frame(control, FrameType::failed, "125\n" + std::string(error.what()));
        return 1;
    }
    return run_monitor(plan, control, std::move(database), std::move(network_namespace));
}

} // namespace

PendingMonitor::PendingMonitor(const std::string& database_path) {
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
        // _exit: the starter's objects (its stdio buffers) are not ours to flush.
        ::_exit(wait_for_plan(monitor_end.get(), database_path));
    }
    // We go on working (resolving the image, writing the bundle) while it
    // opens the database and makes the early work.
    start_on_another_cpu(child);
    forker_ = child;
    control_ = std::move(starter_end);
}

PendingMonitor::~PendingMonitor() {
    if (control_) {
        // Unstarted: it sees our end close, removes what it made early, and
        // exits, closing its end; when we return it is done.
        ::shutdown(control_.get(), SHUT_WR);
        try {
            while (!receive_frame(control_.get()).closed) {
            }
        } catch (const Error&) {
        }
        control_.reset();
    }
    reap_forker();
}

void PendingMonitor::reap_forker() {
    if (forker_ < 0) return;
    while (::waitpid(forker_, nullptr, 0) < 0 && errno == EINTR) {
    }
    forker_ = -1;
}

void PendingMonitor::prepare(const EarlyWork& work) {
    if (!control_ || prepared_) return;
    prepared_ = true;
    std::string payload;
    if (!work.id.empty()) payload = "cgroups=" + work.cgroups_path + '\0' + "id=" + work.id + '\0';
    if (work.network_namespace) payload += std::string("network-namespace") + '\0';
    send_frame(control_.get(), FrameType::prepare, payload);
}

UniqueFd PendingMonitor::start(const MonitorPlan& plan) {
    if (!control_) fail("the container's monitor was started already");
    reap_forker();
    std::string payload;
    for (const auto& word : encode_monitor_plan(plan)) {
        payload += word;
        payload.push_back('\0');
    }
    if (!send_frame(control_.get(), FrameType::plan, payload))
        fail("the container's monitor has gone before its start");
    return std::move(control_);
}

UniqueFd spawn_monitor(const MonitorPlan& plan) {
    return PendingMonitor(plan.database_path).start(plan);
}

} // namespace berth::engine
