// OCI hooks (the state each one receives, failures, timeouts, a runtime
// killed while a hook runs) and terminals handed over via --console-socket.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;
using berth_test::TempDir;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A hook running a host shell command (busybox sh on the host).
json shell_hook(const std::string& script, int timeout = 0) {
    json hook = {{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}};
    if (timeout > 0) hook["timeout"] = timeout;
    return hook;
}

// The pid namespace of a process, "" if it is gone.
std::string pid_namespace(pid_t pid) {
    std::error_code ec;
    return fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/pid", ec).string();
}

class HooksConsole : public RuntimeTest {
  protected:
    // Polls until no orphan of the runtime is alive; false on timeout.
    static bool wait_no_children(std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        while (!living_children().empty()) {
            if (Clock::now() > deadline) return false;
            std::this_thread::sleep_for(20ms);
        }
        return true;
    }

    // Expects that id left no trace: not listed, no state dir, no process.
    void expect_no_trace(const std::string& id) {
        EXPECT_EQ(listed_ids().count(id), 0u) << "failed container still listed";
        EXPECT_FALSE(fs::exists(root() / id)) << "failed create left its state directory";
        EXPECT_TRUE(wait_no_children(3s))
            << "process " << living_children().front() << " of the failed create is still alive";
    }
};

// Each hook gets the container state on stdin, with the status of its
// moment: createRuntime/prestart while "creating", poststart "running",
// poststop "stopped"; all with the same id and init pid.
TEST_F(HooksConsole, HooksReceiveStateOnStdin) {
    TempDir out;
    Bundle bundle;
    json& hooks = bundle.config()["hooks"];
    for (const char* name : {"createRuntime", "prestart", "poststart", "poststop"})
        hooks[name] = {shell_hook("cat > '" + (out.path() / name).string() + ".json'")};
    bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
    bundle.write_config();
    const std::string id = make_id("hooks");

    auto created = runtime({"create", id, "--bundle", bundle.path()});
    ASSERT_EQ(created.exit_code, 0) << created;
    const pid_t pid = state(id).value("pid", 0);
    ASSERT_EQ(runtime({"start", id}).exit_code, 0);
    ASSERT_EQ(runtime({"kill", id, "KILL"}).exit_code, 0);
    ASSERT_EQ(wait_for_status(id, "stopped"), "stopped");
    auto deleted = runtime({"delete", id});
    ASSERT_EQ(deleted.exit_code, 0) << deleted;

    auto hook_state = [&](const char* name) {
        const std::string text = read_text(out.path() / (std::string(name) + ".json"));
        json j = json::parse(text, nullptr, false);
        EXPECT_TRUE(j.is_object()) << name << " hook got no state: \"" << text << "\"";
        return j.is_object() ? j : json::object();
    };
    json create_runtime = hook_state("createRuntime");
    EXPECT_EQ(create_runtime.value("status", ""), "creating") << create_runtime;
    EXPECT_GT(create_runtime.value("pid", 0), 0) << create_runtime;
    EXPECT_EQ(create_runtime.value("pid", 0), pid) << "hook saw another pid than state";
    EXPECT_EQ(create_runtime.value("id", ""), id);
    EXPECT_EQ(create_runtime.value("bundle", ""), bundle.path().string());

    json prestart = hook_state("prestart");
    EXPECT_EQ(prestart.value("id", ""), id);
    EXPECT_EQ(prestart.value("pid", 0), pid) << prestart;

    json poststart = hook_state("poststart");
    EXPECT_EQ(poststart.value("status", ""), "running") << poststart;
    EXPECT_EQ(poststart.value("pid", 0), pid) << poststart;

    json poststop = hook_state("poststop");
    EXPECT_EQ(poststop.value("status", ""), "stopped") << poststop;
    EXPECT_EQ(poststop.value("id", ""), id);
}

// `run --detach` lets the init go at the end of create (start_at_once),
// but not with a poststart hook, which must run once the process has
// started, seeing it "running".
TEST_F(HooksConsole, DetachedRunStillRunsPoststartHooks) {
    TempDir out;
    Bundle bundle;
    bundle.config()["hooks"]["poststart"] = {
        shell_hook("cat > '" + (out.path() / "poststart.json").string() + "'")};
    bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
    bundle.write_config();
    const std::string id = make_id("detached-hooks");

    auto ran = runtime({"run", id, "--bundle", bundle.path(), "--detach"});
    ASSERT_EQ(ran.exit_code, 0) << ran;
    json s = state(id);
    EXPECT_EQ(s.value("status", ""), "running") << s;
    json poststart = json::parse(read_text(out.path() / "poststart.json"), nullptr, false);
    ASSERT_TRUE(poststart.is_object()) << "the poststart hook did not run";
    EXPECT_EQ(poststart.value("status", ""), "running") << poststart;
    EXPECT_EQ(poststart.value("pid", 0), s.value("pid", 0)) << poststart;
    EXPECT_FALSE(fs::exists(root() / id / "exec.fifo")) << "started, its fifo should be gone";
    EXPECT_EQ(runtime({"delete", "--force", id}).exit_code, 0);
}

// Spec: a failing createRuntime hook fails create, and the runtime must
// tear down what it had already built.
TEST_F(HooksConsole, FailingCreateRuntimeHookFailsCreate) {
    Bundle bundle;
    bundle.config()["hooks"]["createRuntime"] = {shell_hook("exit 1")};
    bundle.write_config();
    const std::string id = make_id("hookfail");
    auto r = runtime({"create", id, "--bundle", bundle.path()});
    EXPECT_NE(r.exit_code, 0) << r;
    expect_no_trace(id);
}

// A hook that runs and exits 127 is not one that could not run: the
// message says which, and names the missing file for the second.
TEST_F(HooksConsole, HookExiting127IsNotTakenForAMissingOne) {
    Bundle bundle;
    bundle.config()["hooks"]["createRuntime"] = {shell_hook("exit 127")};
    bundle.write_config();
    auto exited = runtime({"create", make_id("hook127"), "--bundle", bundle.path()});
    EXPECT_NE(exited.exit_code, 0) << exited;
    EXPECT_NE(exited.err.find("exited with status 127"), std::string::npos) << exited;

    Bundle missing;
    missing.config()["hooks"]["createRuntime"] = {{{"path", "/no/such/hook"}}};
    missing.write_config();
    auto never_ran = runtime({"create", make_id("hookmissing"), "--bundle", missing.path()});
    EXPECT_NE(never_ran.exit_code, 0) << never_ran;
    EXPECT_NE(never_ran.err.find("could not be executed: No such file or directory"),
              std::string::npos)
        << never_ran;
}

// A hook that outlives its timeout is killed and fails create promptly.
TEST_F(HooksConsole, HookTimeoutFailsCreate) {
    Bundle bundle;
    bundle.config()["hooks"]["createRuntime"] = {shell_hook("exec sleep 10", 1)};
    bundle.write_config();
    const std::string id = make_id("hooktimeout");
    const auto start = Clock::now();
    auto r = runtime({"create", id, "--bundle", bundle.path()});
    const auto elapsed = Clock::now() - start;
    EXPECT_NE(r.exit_code, 0) << r;
    EXPECT_LT(elapsed, 3500ms) << "the 1 s hook timeout was not enforced";
    // The timed-out hook (sleep 10) must have been killed, not orphaned.
    expect_no_trace(id);
}

// SIGKILL of `create` while a createRuntime hook runs: afterwards the
// container is either reported "stopped" or cleanly unknown, a plain delete
// works, and nothing of the container (its init, in the new pid
// namespace) survives.
TEST_F(HooksConsole, CreateKilledDuringHookLeavesDeletableContainer) {
    TempDir out;
    const fs::path hook_pid = out.path() / "hook.pid";
    Bundle bundle;
    bundle.config()["hooks"]["createRuntime"] = {
        shell_hook("echo $$ > '" + hook_pid.string() + "'; exec sleep 30")};
    bundle.write_config();
    const std::string id = make_id("killed");

    Background create({runtime_path(), "--root", root(), "create", id, "--bundle", bundle.path()});
    const auto deadline = Clock::now() + 5s;
    while (read_text(hook_pid).empty() && Clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    ASSERT_FALSE(read_text(hook_pid).empty()) << "the createRuntime hook never ran";
    std::this_thread::sleep_for(1s);
    create.kill(SIGKILL);
    ASSERT_EQ(create.wait(5s), 128 + SIGKILL);

    auto st = runtime({"state", id});
    if (st.exit_code == 0) {
        json j = json::parse(st.out, nullptr, false);
        EXPECT_EQ(j.value("status", ""), "stopped") << st;
        auto del = runtime({"delete", id});
        EXPECT_EQ(del.exit_code, 0) << del;
    } else {
        EXPECT_FALSE(st.err.empty()) << "state failed silently\n" << st;
    }
    EXPECT_EQ(listed_ids().count(id), 0u);
    EXPECT_FALSE(fs::exists(root() / id)) << "state directory left behind";

    // The hook itself is a host process the dead runtime cannot reap; only
    // processes in another pid namespace belong to the container.
    const std::string own_ns = pid_namespace(::getpid());
    const auto gone_by = Clock::now() + 5s;
    std::vector<pid_t> container_procs;
    do {
        container_procs.clear();
        for (pid_t pid : living_children())
            if (auto ns = pid_namespace(pid); !ns.empty() && ns != own_ns)
                container_procs.push_back(pid);
        if (!container_procs.empty()) std::this_thread::sleep_for(50ms);
    } while (!container_procs.empty() && Clock::now() < gone_by);
    EXPECT_TRUE(container_procs.empty())
        << "container init " << container_procs.front() << " outlived its runtime and delete";
}

// ---- terminal ----------------------------------------------------------------

// Listens on a unix socket for the pty master a runtime sends with
// SCM_RIGHTS (runc's --console-socket protocol).
class ConsoleSocket {
  public:
    explicit ConsoleSocket(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(fd_, 1) != 0)
            ADD_FAILURE() << "console socket " << path << ": " << std::strerror(errno);
    }
    ~ConsoleSocket() { ::close(fd_); }

    // The received master fd, or -1 (with a failure recorded).
    int receive_master(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
            ADD_FAILURE() << "the runtime never connected to the console socket";
            return -1;
        }
        int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        char data[256];
        iovec iov{data, sizeof data};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        ::close(conn);
        cmsghdr* c = n >= 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
        if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            ADD_FAILURE() << "no fd received on the console socket";
            return -1;
        }
        int master;
        std::memcpy(&master, CMSG_DATA(c), sizeof master);
        return master;
    }

  private:
    fs::path path_;
    int fd_ = -1;
};

// Everything the pty master delivers until the slave side closes (EIO).
std::string read_until_hangup(int master, std::chrono::milliseconds timeout) {
    std::string text;
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

class Terminal : public HooksConsole {
  protected:
    // Creates a terminal container running args, receives its pty master,
    // starts it and returns all it printed.
    std::string run_on_terminal(json args) {
        TempDir sockets;
        const fs::path socket_path = sockets.path() / "console.sock";
        ConsoleSocket console(socket_path);
        Bundle bundle;
        bundle.config()["process"]["terminal"] = true;
        bundle.config()["process"]["args"] = std::move(args);
        bundle.write_config();
        const std::string id = make_id("tty");

        auto created = runtime(
            {"create", id, "--bundle", bundle.path(), "--console-socket", socket_path.string()});
        EXPECT_EQ(created.exit_code, 0) << created;
        if (created.exit_code != 0) return {};
        int master = console.receive_master(5s);
        if (master < 0) return {};
        auto started = runtime({"start", id});
        EXPECT_EQ(started.exit_code, 0) << started;
        std::string text = read_until_hangup(master, 5s);
        ::close(master);
        return text;
    }
};

// The process's output arrives through the received master, and its stdio
// is the container's first pty.
TEST_F(Terminal, OutputArrivesThroughConsoleSocketPty) {
    std::string text = run_on_terminal({"sh", "-c", "echo tty-ok; tty"});
    EXPECT_NE(text.find("tty-ok"), std::string::npos) << text;
    EXPECT_NE(text.find("/dev/pts/0"), std::string::npos) << text;
}

TEST_F(Terminal, ProbeSeesTerminalOnStdio) {
    std::string text = run_on_terminal({"/probe"});
    json report = berth_test::parse_probe_output(text);
    EXPECT_EQ(report.at("tty"), (json{{"stdin", true}, {"stdout", true}, {"stderr", true}}));
    EXPECT_EQ(report.at("ttyname"), "/dev/pts/0");
}

} // namespace
} // namespace berth_it
