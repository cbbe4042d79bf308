// `berth run` and friends end to end: each test suite builds the busybox
// image into a private root, runs containers under a cgroup parent of its
// own, and checks that what berth says (exit codes, output, ps) is true and
// that nothing is left behind: no mount, no cgroup, no row, no monitor.
#include "engine_fixture.hpp"

namespace {

TEST_F(EngineTest, RunRmEchoPrintsAndLeavesNothing) {
    CommandResult result = run({"--rm", "busybox", "echo", "hi"});
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out, "hi\n");
    expect_nothing_left();
}

TEST_F(EngineTest, OutputKeepsItsStream) {
    CommandResult result = run({"--rm", "busybox", "sh", "-c", "echo out; echo err >&2"});
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out, "out\n");
    EXPECT_EQ(result.err, "err\n");
}

TEST_F(EngineTest, ExitCodesAsDocker) {
    EXPECT_EQ(run({"--rm", "busybox", "true"}).exit_code, 0);
    EXPECT_EQ(run({"--rm", "busybox", "sh", "-c", "exit 3"}).exit_code, 3);
    CommandResult missing = run({"--rm", "busybox", "no-such-command"});
    EXPECT_EQ(missing.exit_code, 127) << missing;
    EXPECT_NE(missing.err.find("executable file not found"), std::string::npos) << missing;
    EXPECT_EQ(run({"--rm", "busybox", "/etc/passwd"}).exit_code, 126);
    EXPECT_EQ(run({"--rm", "no-such-image"}).exit_code, 125);
    expect_nothing_left();
}

TEST_F(EngineTest, DetachedLifecycle) {
    CommandResult started =
        run({"-d", "--name", "sleeper", "busybox", "sh", "-c", "echo ready; exec sleep 30"});
    ASSERT_EQ(started.exit_code, 0) << started;
    std::string id = trim(started.out);
    EXPECT_EQ(id.size(), 64u) << id;

    CommandResult listed = berth({"ps"});
    EXPECT_NE(listed.out.find("CONTAINER ID"), std::string::npos);
    EXPECT_NE(listed.out.find(id.substr(0, 12)), std::string::npos) << listed;
    EXPECT_NE(listed.out.find("Up "), std::string::npos) << listed;
    EXPECT_NE(listed.out.find("sleeper"), std::string::npos) << listed;

    // The log may lag the start by the time the shell takes to echo.
    std::string logs;
    for (int i = 0; i < 50 && logs.empty(); ++i) {
        logs = berth({"logs", "sleeper"}).out;
        if (logs.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(logs, "ready\n");
    std::string log_file = read_text(root() / "containers" / id / (id + "-json.log"));
    EXPECT_NE(log_file.find("{\"log\":\"ready\\n\",\"stream\":\"stdout\",\"time\":\""),
              std::string::npos)
        << log_file;

    CommandResult exec = berth({"exec", "-e", "GREETING=hello", "sleeper", "sh", "-c",
                                "echo $GREETING from $(hostname); exit 5"});
    EXPECT_EQ(exec.exit_code, 5) << exec;
    EXPECT_EQ(exec.out, "hello from " + id.substr(0, 12) + "\n");
    EXPECT_EQ(berth({"exec", "sleeper", "no-such-command"}).exit_code, 127);

    json state = inspect("sleeper");
    EXPECT_EQ(state["State"]["Status"], "running");
    pid_t init = state["State"]["Pid"].get<pid_t>();
    EXPECT_TRUE(process_running(init));

    EXPECT_NE(berth({"rm", "sleeper"}).exit_code, 0) << "running: needs -f";
    CommandResult stopped = berth({"stop", "-t", "1", "sleeper"});
    EXPECT_EQ(stopped.exit_code, 0) << stopped;
    EXPECT_FALSE(process_running(init));
    state = inspect("sleeper");
    EXPECT_EQ(state["State"]["Status"], "exited");
    // sleep, as its namespace's init, ignores SIGTERM: SIGKILL after the timeout.
    EXPECT_EQ(state["State"]["ExitCode"], 137);
    EXPECT_NE(berth({"ps", "-a"}).out.find("Exited (137)"), std::string::npos);
    EXPECT_EQ(berth({"ps", "-q"}).out, "");

    EXPECT_EQ(berth({"start", "sleeper"}).exit_code, 0) << "restarts with its upper layer";
    EXPECT_EQ(inspect("sleeper")["State"]["Status"], "running");
    CommandResult removed = berth({"rm", "-f", "sleeper"});
    EXPECT_EQ(removed.exit_code, 0) << removed;
    expect_nothing_left();
}

TEST_F(EngineTest, WaitAndLogsAfterExit) {
    CommandResult started =
        run({"-d", "busybox", "sh", "-c", "echo a; echo b >&2; sleep 0.3; echo c; exit 4"});
    ASSERT_EQ(started.exit_code, 0) << started;
    std::string id = trim(started.out);
    CommandResult waited = berth({"wait", id});
    EXPECT_EQ(trim(waited.out), "4") << waited;
    CommandResult logs = berth({"logs", id});
    EXPECT_EQ(logs.out, "a\nc\n");
    EXPECT_EQ(logs.err, "b\n");
    EXPECT_EQ(berth({"logs", "--tail", "1", id}).out, "c\n");
    EXPECT_EQ(berth({"rm", id}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(EngineTest, NameCollisionIsRefusedWholly) {
    CommandResult first =
        berth({"create", "--cgroup-parent", cgroup_parent(), "--name", "taken", "busybox", "true"});
    ASSERT_EQ(first.exit_code, 0) << first;
    CommandResult second = run({"--name", "taken", "busybox", "true"});
    EXPECT_EQ(second.exit_code, 125) << second;
    EXPECT_NE(second.err.find("already in use"), std::string::npos) << second;
    EXPECT_EQ(split_lines(berth({"ps", "-aq"}).out).size(), 1u);
    EXPECT_EQ(
        std::distance(fs::directory_iterator(root() / "containers"), fs::directory_iterator()), 1);
    EXPECT_EQ(berth({"rm", "taken"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(EngineTest, KilledMonitorShowsExited) {
    CommandResult started = run({"-d", "--name", "orphan", "busybox", "sleep", "30"});
    ASSERT_EQ(started.exit_code, 0) << started;
    pid_t init = inspect("orphan")["State"]["Pid"].get<pid_t>();
    auto monitors = living_children();
    ASSERT_EQ(monitors.size(), 1u) << "the monitor, reparented to this subreaper";
    ::kill(monitors.front(), SIGKILL);
    ::waitpid(monitors.front(), nullptr, 0);

    CommandResult listed = berth({"ps", "-a"});
    EXPECT_NE(listed.out.find("Exited (137)"), std::string::npos) << listed;
    EXPECT_FALSE(process_running(init)) << "its container went with it";
    EXPECT_NE(inspect("orphan")["State"]["Error"].get<std::string>().find("monitor"),
              std::string::npos);
    EXPECT_EQ(berth({"rm", "orphan"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(EngineTest, FlagsReachTheContainer) {
    CommandResult result =
        run({"--rm", "-u", "nobody", "-w", "/data", "-e", "FOO=bar", "-h", "box", "--read-only",
             "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "busybox", "sh", "-c",
             "id -u; pwd; echo $FOO; hostname; grep -E '^(CapBnd|NoNewPrivs|Seccomp):' "
             "/proc/self/status; touch /x 2>/dev/null || echo read-only"});
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out, "65534\n/data\nbar\nbox\nCapBnd:\t0000000000000000\n"
                          "NoNewPrivs:\t1\nSeccomp:\t2\nread-only\n")
        << result;
    CommandResult limited = run({"--rm", "--pids-limit", "20", "--memory", "64m", "busybox", "cat",
                                 "/sys/fs/cgroup/pids/pids.max"});
    EXPECT_EQ(limited.out, "20\n") << limited;
    expect_nothing_left();
}

} // namespace
