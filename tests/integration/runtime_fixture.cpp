// RuntimeTest and process helpers for the integration tests.
#include "runtime_fixture.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BERTH_RUNTIME_PATH
#error "BERTH_RUNTIME_PATH must be set by tests/integration/CMakeLists.txt"
#endif

extern char** environ;

namespace berth_it {
namespace {

using Clock = std::chrono::steady_clock;

struct ProcStat {
    char state = '?';
    pid_t ppid = 0;
};

// Fields 3 and 4 of /proc/<pid>/stat; the command name (field 2) may
// contain spaces and parentheses, so parse after the last ')'.
bool read_proc_stat(pid_t pid, ProcStat& out) {
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) return false;
    std::istringstream in(stat.substr(paren + 1));
    in >> out.state >> out.ppid;
    return static_cast<bool>(in);
}

// All children of this process, zombies included.
std::vector<pid_t> children(bool include_zombies) {
    std::vector<pid_t> result;
    const pid_t self = ::getpid();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        pid_t pid = std::stoi(name);
        ProcStat st;
        if (read_proc_stat(pid, st) && st.ppid == self && (include_zombies || st.state != 'Z'))
            result.push_back(pid);
    }
    return result;
}

} // namespace

std::string runtime_path() {
    return BERTH_RUNTIME_PATH;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool process_running(pid_t pid) {
    ProcStat st;
    return pid > 0 && read_proc_stat(pid, st) && st.state != 'Z' && st.state != 'X';
}

bool wait_process_gone(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (process_running(pid)) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

std::vector<pid_t> living_children() {
    return children(false);
}

std::set<int> probe_fds(const json& report) {
    std::set<int> fds;
    for (const auto& fd : report.at("fds"))
        fds.insert(fd.at("fd").get<int>());
    return fds;
}

// ---- Background ------------------------------------------------------------

Background::Background(std::vector<std::string> argv, const fs::path& out_file) {
    std::vector<char*> cargv;
    for (auto& arg : argv)
        cargv.push_back(arg.data());
    cargv.push_back(nullptr);
    // Opened before fork: the child may only make async-signal-safe calls.
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = out_file.empty()
                  ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                  : ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::setpgid(0, 0);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
        ::execve(cargv[0], cargv.data(), environ);
        ::_exit(127);
    }
    ::close(in);
    ::close(out);
    if (pid_ < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
}

Background::~Background() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

int Background::wait(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (Clock::now() > deadline) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void Background::kill(int sig) {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

// ---- RuntimeTest -----------------------------------------------------------

RuntimeTest::RuntimeTest() : root_("berth-root") {}

void RuntimeTest::SetUp() {
    // Orphans of the runtime (a container init whose create/run process
    // exited) are re-parented to us instead of the host's pid 1, so tests can
    // find what a failed command left behind and TearDown can reap it.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0) << std::strerror(errno);
}

void RuntimeTest::TearDown() {
    // Everything the runtime knows about, plus any directory it left in the
    // state dir without listing it.
    std::set<std::string> ids = listed_ids();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root(), ec))
        // Dot-names are the runtime's own files (its seccomp cache), not containers.
        if (entry.is_directory() && entry.path().filename().string()[0] != '.')
            ids.insert(entry.path().filename());
    for (const auto& id : ids) {
        auto r = runtime({"delete", "--force", id});
        EXPECT_EQ(r.exit_code, 0) << "cleanup: delete --force " << id << " failed\n" << r;
    }
    reap_children();
}

std::string RuntimeTest::make_id(const std::string& stem) const {
    return stem + "-" + std::to_string(::getpid());
}

CommandResult RuntimeTest::runtime(std::vector<std::string> args, int timeout_ms) const {
    args.insert(args.begin(), {runtime_path(), "--root", root().string()});
    return berth_test::run_command(std::move(args), {}, timeout_ms);
}

json RuntimeTest::state(const std::string& id) const {
    auto r = runtime({"state", id});
    if (r.exit_code != 0) {
        ADD_FAILURE() << "state " << id << " failed\n" << r;
        return nullptr;
    }
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << "state " << id << " printed no JSON\n" << r;
    return j.is_discarded() ? json(nullptr) : j;
}

std::string RuntimeTest::wait_for_status(const std::string& id, const std::string& want,
                                         std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    std::string last;
    for (;;) {
        // Failures are tolerated: the container may not exist yet.
        auto r = runtime({"state", id});
        json j = json::parse(r.out, nullptr, false);
        last = r.exit_code == 0 && j.is_object() ? j.value("status", "") : "";
        if (last == want || Clock::now() > deadline) return last;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::set<std::string> RuntimeTest::listed_ids() const {
    auto r = runtime({"list", "-q"});
    EXPECT_EQ(r.exit_code, 0) << r;
    std::set<std::string> ids;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) ids.insert(line);
    return ids;
}

void RuntimeTest::reap_children() {
    for (pid_t pid : children(true)) {
        ::kill(pid, SIGKILL);
        const auto deadline = Clock::now() + std::chrono::seconds(5);
        while (::waitpid(pid, nullptr, WNOHANG) == 0 && Clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace berth_it
