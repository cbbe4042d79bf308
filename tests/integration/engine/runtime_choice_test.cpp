// --runtime: the same lifecycle under crun and runc (through their command
// line, under a root of berth's own) as under berth's in-process runtime.
#include "engine_fixture.hpp"

namespace {

class RuntimeChoiceTest : public EngineTest, public ::testing::WithParamInterface<std::string> {
  protected:
    // Containers of this suite live under <runroot>/runtimes/<name>.
    static fs::path runtime_root(const std::string& name) {
        return fs::path(std::getenv("BERTH_RUNROOT")) / "runtimes" / name;
    }

    // crun 1.8 refuses a hybrid cgroup host whose cgroup2 has controllers
    // (this one's has hugetlb): berth must then fail cleanly, as it does here.
    bool runtime_refuses_this_host() {
        CommandResult probe = run({"--rm", "--runtime", GetParam(), "busybox", "true"});
        if (probe.err.find("hybrid mode not supported") == std::string::npos) return false;
        EXPECT_EQ(probe.exit_code, 125) << probe;
        EXPECT_EQ(std::count(probe.err.begin(), probe.err.end(), '\n'), 1) << probe;
        expect_nothing_left();
        return true;
    }
};

TEST_P(RuntimeChoiceTest, RunsTheWholeLifecycle) {
    const std::string runtime = GetParam();
    if (runtime_refuses_this_host()) GTEST_SKIP() << runtime << " refuses this host's cgroups";
    CommandResult ran = run(
        {"--rm", "--runtime", runtime, "busybox", "sh", "-c", "echo out; echo err >&2; exit 7"});
    EXPECT_EQ(ran.exit_code, 7) << ran;
    EXPECT_EQ(ran.out, "out\n");
    EXPECT_EQ(ran.err, "err\n");

    CommandResult missing = run({"--rm", "--runtime", runtime, "busybox", "no-such-command"});
    EXPECT_EQ(missing.exit_code, 127) << missing;

    CommandResult started =
        run({"-d", "--name", "long", "--runtime", runtime, "--health-cmd", "test -d /proc/1",
             "--health-interval", "100ms", "busybox", "sleep", "60"});
    ASSERT_EQ(started.exit_code, 0) << started;
    json details = inspect("long");
    EXPECT_EQ(details["HostConfig"]["Runtime"], runtime);
    EXPECT_TRUE(fs::exists(runtime_root(runtime) / details["Id"].get<std::string>()))
        << "state under berth's own root for the runtime";
    pid_t init = details["State"]["Pid"].get<pid_t>();
    EXPECT_GT(init, 0);

    // The monitor's health checks exec through the same runtime.
    std::string health;
    for (int i = 0; i < 100 && health != "healthy"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        health = inspect("long")["State"]["Health"].value("Status", "");
    }
    EXPECT_EQ(health, "healthy");

    CommandResult exec = berth({"exec", "long", "sh", "-c", "echo $((6*7)); exit 3"});
    EXPECT_EQ(exec.exit_code, 3) << exec;
    EXPECT_EQ(exec.out, "42\n");
    // exec -u: the user's groups only, not the container user's as well
    // (the runtime gets the whole process: its --additional-gids adds).
    EXPECT_EQ(berth({"exec", "-u", "1000:100", "long", "id"}).out, "uid=1000 gid=100 groups=100\n");
    EXPECT_EQ(berth({"exec", "long", "id"}).out, "uid=0(root) gid=0(root) groups=0(root)\n");
    // exec -d -t: the runtime hands the terminal over --console-socket.
    CommandResult tty_detached = berth(
        {"exec", "-d", "-t", "long", "sh", "-c", "tty > /tmp/tty.tmp; mv /tmp/tty.tmp /tmp/tty"});
    EXPECT_EQ(tty_detached.exit_code, 0) << tty_detached;
    std::string tty;
    for (int i = 0; i < 250 && tty.empty(); ++i) {
        tty = berth({"exec", "long", "cat", "/tmp/tty"}).out;
        if (tty.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(tty.starts_with("/dev/pts/")) << tty;

    ASSERT_EQ(berth({"pause", "long"}).exit_code, 0);
    EXPECT_EQ(inspect("long")["State"]["Status"], "paused");
    ASSERT_EQ(berth({"unpause", "long"}).exit_code, 0);
    EXPECT_EQ(inspect("long")["State"]["Status"], "running");

    CommandResult top = berth({"top", "long"});
    EXPECT_EQ(top.exit_code, 0) << top;
    EXPECT_NE(top.out.find("sleep"), std::string::npos) << top;

    auto start = std::chrono::steady_clock::now();
    CommandResult stopped = berth({"stop", "-t", "1", "long"});
    EXPECT_EQ(stopped.exit_code, 0) << stopped;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_EQ(inspect("long")["State"]["Status"], "exited");
    EXPECT_EQ(inspect("long")["State"]["ExitCode"], 137) << "sleep ignores SIGTERM as PID 1";
    EXPECT_FALSE(process_running(init));

    ASSERT_EQ(berth({"start", "long"}).exit_code, 0) << "restarted under the same runtime";
    ASSERT_EQ(berth({"kill", "-s", "KILL", "long"}).exit_code, 0);
    EXPECT_EQ(berth({"wait", "long"}).out, "137\n");
    ASSERT_EQ(berth({"start", "long"}).exit_code, 0);
    EXPECT_EQ(berth({"rm", "-f", "long"}).exit_code, 0);
    EXPECT_FALSE(fs::exists(runtime_root(runtime) / details["Id"].get<std::string>()))
        << "rm -f deletes the runtime's state";
    expect_nothing_left();
}

TEST_P(RuntimeChoiceTest, GivesATerminal) {
    if (runtime_refuses_this_host()) GTEST_SKIP() << GetParam() << " refuses this host's cgroups";
    CommandResult ran =
        run({"--rm", "-t", "--runtime", GetParam(), "busybox", "sh", "-c", "tty; stty size"});
    EXPECT_EQ(ran.exit_code, 0) << ran;
    EXPECT_NE(ran.out.find("/dev/pts/0"), std::string::npos) << ran;
    expect_nothing_left();
}

TEST_P(RuntimeChoiceTest, DefaultComesFromTheEnvironment) {
    if (runtime_refuses_this_host()) GTEST_SKIP() << GetParam() << " refuses this host's cgroups";
    ::setenv("BERTH_RUNTIME", GetParam().c_str(), 1);
    CommandResult created = berth(
        {"create", "--cgroup-parent", cgroup_parent(), "--name", "from-env", "busybox", "true"});
    ::unsetenv("BERTH_RUNTIME");
    ASSERT_EQ(created.exit_code, 0) << created;
    EXPECT_EQ(inspect("from-env")["HostConfig"]["Runtime"], GetParam());
    CommandResult started = berth({"start", "-a", "from-env"});
    EXPECT_EQ(started.exit_code, 0) << started;
    EXPECT_EQ(berth({"rm", "from-env"}).exit_code, 0);
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Runtimes, RuntimeChoiceTest, ::testing::Values("crun", "runc"));

class RuntimeErrorTest : public EngineTest {};

TEST_F(RuntimeErrorTest, UnknownRuntimeLeavesNothing) {
    for (std::string name : {"no-such-runtime", "/nonexistent/runtime", "/etc/passwd"}) {
        CommandResult ran = run({"--rm", "--runtime", name, "busybox", "true"});
        EXPECT_EQ(ran.exit_code, 125) << ran;
        EXPECT_NE(ran.err.find("unknown or invalid runtime name: " + name), std::string::npos)
            << ran;
        EXPECT_EQ(std::count(ran.err.begin(), ran.err.end(), '\n'), 1) << "one line: " << ran;
        CommandResult created = berth({"create", "--runtime", name, "busybox", "true"});
        EXPECT_EQ(created.exit_code, 125) << created;
    }
    expect_nothing_left();
}

TEST_F(RuntimeErrorTest, InProcessIsTheDefault) {
    ASSERT_EQ(berth({"create", "--name", "plain", "busybox", "true"}).exit_code, 0);
    EXPECT_EQ(inspect("plain")["HostConfig"]["Runtime"], "berth");
    EXPECT_EQ(berth({"rm", "plain"}).exit_code, 0);
    expect_nothing_left();
}

} // namespace

namespace {

// Any runtime by path: here a script that runs runc.
TEST_F(RuntimeErrorTest, RuntimeByPath) {
    fs::path wrapper = root().parent_path() / "my-runtime";
    {
        std::ofstream out(wrapper);
        out << "#!/bin/sh\nexec runc \"$@\"\n";
    }
    fs::permissions(wrapper, fs::perms::owner_all);
    CommandResult ran =
        run({"--rm", "--runtime", wrapper.string(), "busybox", "sh", "-c", "echo by path; exit 4"});
    EXPECT_EQ(ran.exit_code, 4) << ran;
    EXPECT_EQ(ran.out, "by path\n");
    CommandResult tty = run({"--rm", "-t", "--runtime", wrapper.string(), "busybox", "tty"});
    EXPECT_NE(tty.out.find("/dev/pts/0"), std::string::npos) << tty;
    ASSERT_EQ(
        run({"-d", "--name", "wrapped", "--runtime", wrapper.string(), "busybox", "sleep", "60"})
            .exit_code,
        0);
    EXPECT_EQ(inspect("wrapped")["HostConfig"]["Runtime"], wrapper.string());
    CommandResult exec = berth({"exec", "-w", "/etc", "wrapped", "pwd"});
    EXPECT_EQ(exec.out, "/etc\n") << exec;
    EXPECT_EQ(berth({"rm", "-f", "wrapped"}).exit_code, 0);
    fs::remove(wrapper);
    expect_nothing_left();
}

} // namespace
