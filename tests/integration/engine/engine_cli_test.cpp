// `berth run` and friends end to end: each test suite builds the busybox
// image into a private root, runs containers under a cgroup parent of its
// own, and checks that what berth says (exit codes, output, ps) is true and
// that nothing is left behind: no mount, no cgroup, no row, no monitor.
#include "berth_test/pty_session.hpp"
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

    // Command-line mistakes: docker's codes (125 a bad flag or value, 1 a
    // missing argument or command) and one line plus a pointer to --help.
    CommandResult unknown_flag = run({"--no-such-flag", "busybox", "true"});
    EXPECT_EQ(unknown_flag.exit_code, 125) << unknown_flag;
    EXPECT_NE(unknown_flag.err.find("unknown flag: --no-such-flag"), std::string::npos)
        << unknown_flag;
    CommandResult ps_flag = berth({"ps", "--no-such-flag"});
    EXPECT_EQ(ps_flag.exit_code, 125) << ps_flag;
    EXPECT_EQ(ps_flag.err, "berth: unknown flag: --no-such-flag\nSee 'berth ps --help'.\n");
    EXPECT_EQ(berth({"ps", "-n", "many"}).exit_code, 125);
    EXPECT_EQ(berth({"stop"}).exit_code, 1);
    CommandResult no_command = berth({"no-such-command"});
    EXPECT_EQ(no_command.exit_code, 1) << no_command;
    EXPECT_NE(no_command.err.find("'no-such-command' is not a berth command"), std::string::npos)
        << no_command;
    // Only the invoked command's part of the command tree is built; help
    // and groups still get every command.
    CommandResult help = berth({"--help"});
    EXPECT_EQ(help.exit_code, 0) << help;
    for (const char* name :
         {"run", "image", "images", "build", "logs", "volume", "network", "system"})
        EXPECT_NE(help.out.find(std::string("\n  ") + name + " "), std::string::npos)
            << name << " missing from --help:\n"
            << help.out;
    EXPECT_EQ(berth({"network", "ls", "-q"}).exit_code, 0);
    EXPECT_EQ(berth({"image", "ls", "-q"}).exit_code, 0);
    // rm -f of what does not exist: said, but no failure (docker's).
    CommandResult forced = berth({"rm", "-f", "no-such-container"});
    EXPECT_EQ(forced.exit_code, 0) << forced;
    EXPECT_NE(forced.err.find("no such container"), std::string::npos) << forced;
    EXPECT_EQ(berth({"rm", "no-such-container"}).exit_code, 1);
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

    // -d returns at once; the command goes on in the container, its output
    // nowhere (neither ours nor the container's log).
    auto before = std::chrono::steady_clock::now();
    CommandResult detached = berth(
        {"exec", "-d", "sleeper", "sh", "-c", "echo lost; sleep 2; echo done > /tmp/detached"});
    EXPECT_EQ(detached.exit_code, 0) << detached;
    EXPECT_EQ(detached.out, "");
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(1500));
    EXPECT_NE(berth({"exec", "sleeper", "cat", "/tmp/detached"}).exit_code, 0) << "not yet";
    std::string written;
    for (int i = 0; i < 250 && written.empty(); ++i) {
        written = berth({"exec", "sleeper", "cat", "/tmp/detached"}).out;
        if (written.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(written, "done\n");
    EXPECT_EQ(berth({"logs", "sleeper"}).out, "ready\n");
    // -d -t: detached with a terminal of its own (docker's), whose output
    // nobody reads; the keeper holding it goes when the process does.
    before = std::chrono::steady_clock::now();
    CommandResult tty_detached = berth({"exec", "-d", "-t", "sleeper", "sh", "-c",
                                        "tty > /tmp/tty.tmp; mv /tmp/tty.tmp /tmp/tty; sleep 1"});
    EXPECT_EQ(tty_detached.exit_code, 0) << tty_detached;
    EXPECT_EQ(tty_detached.out, "");
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(1500));
    std::string tty;
    for (int i = 0; i < 250 && tty.empty(); ++i) {
        tty = berth({"exec", "sleeper", "cat", "/tmp/tty"}).out;
        if (tty.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(tty.starts_with("/dev/pts/")) << tty;
    bool keeper_gone = false;
    for (int i = 0; i < 250 && !keeper_gone; ++i) {
        keeper_gone = run_command({"pgrep", "-f", "exec -d -t sleeper"}).exit_code != 0;
        if (!keeper_gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(keeper_gone) << "the keeper outlived the process";
    for (const auto& entry : fs::directory_iterator(dir_->path() / "run"))
        EXPECT_FALSE(entry.path().filename().string().starts_with("exec-tty-"))
            << "console socket left: " << entry.path();

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
    // docker's: a tail that is not a count shows everything; 0 nothing.
    EXPECT_EQ(berth({"logs", "--tail", "-1", id}).out, "a\nc\n");
    EXPECT_EQ(berth({"logs", "--tail", "many", id}).out, "a\nc\n");
    EXPECT_EQ(berth({"logs", "--tail", "0", id}).out, "");
    EXPECT_EQ(berth({"logs", "--details", id}).out, " a\n c\n");
    CommandResult stamped = berth({"logs", "-t", "--tail", "1", id});
    // RFC 3339 with nine digits of nanoseconds, fixed, as docker's.
    ASSERT_EQ(stamped.out.size(), std::string("2026-01-01T00:00:00.000000000Z c\n").size())
        << stamped;
    EXPECT_EQ(stamped.out.substr(19, 1), ".");
    EXPECT_TRUE(stamped.out.ends_with("Z c\n")) << stamped;
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
    EXPECT_EQ(lines_of(berth({"ps", "-aq"}).out).size(), 1u);
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
    // The primary group is a supplementary one too, as docker's (CVE-2022-36109).
    CommandResult groups = run({"--rm", "-u", "nobody", "busybox", "id"});
    EXPECT_EQ(groups.out, "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n") << groups;
    ASSERT_EQ(run({"-d", "--name", "grouped", "busybox", "sleep", "30"}).exit_code, 0);
    EXPECT_EQ(berth({"exec", "grouped", "id"}).out, "uid=0(root) gid=0(root) groups=0(root)\n");
    EXPECT_EQ(berth({"exec", "-u", "1000:100", "grouped", "id"}).out,
              "uid=1000 gid=100 groups=100\n");
    EXPECT_EQ(berth({"rm", "-f", "grouped"}).exit_code, 0);
    CommandResult limited = run({"--rm", "--pids-limit", "20", "--memory", "64m", "busybox", "cat",
                                 "/sys/fs/cgroup/pids/pids.max"});
    EXPECT_EQ(limited.out, "20\n") << limited;
    expect_nothing_left();
}

} // namespace

TEST_F(EngineTest, AnImageAContainerUsesIsNotRemoved) {
    fs::path tree = dir_->path() / "lonely-tree";
    fs::create_directories(tree / "bin");
    std::ofstream(tree / "bin" / "marker") << "mine";
    fs::path tar = dir_->path() / "lonely.tar";
    ASSERT_EQ(run_command({"tar", "-C", tree.string(), "-cf", tar.string(), "."}).exit_code, 0);
    ASSERT_EQ(berth({"import", tar.string(), "lonely:1"}).exit_code, 0);
    CommandResult inspected = berth({"image", "inspect", "lonely:1"});
    ASSERT_EQ(inspected.exit_code, 0) << inspected;
    std::string image_id = json::parse(inspected.out)[0]["Id"];
    ASSERT_EQ(berth({"create", "--name", "user", "lonely:1", "/bin/marker"}).exit_code, 0);

    CommandResult refused = berth({"rmi", "lonely:1"});
    EXPECT_NE(refused.exit_code, 0) << refused;
    EXPECT_NE(refused.err.find("container user is using it"), std::string::npos) << refused;
    EXPECT_EQ(berth({"image", "inspect", "lonely:1"}).exit_code, 0);

    // Forced, only the name goes; prune spares the image while the container is there.
    CommandResult forced = berth({"rmi", "-f", "lonely:1"});
    EXPECT_EQ(forced.exit_code, 0) << forced;
    EXPECT_NE(forced.out.find("Untagged"), std::string::npos) << forced;
    EXPECT_EQ(forced.out.find("Deleted"), std::string::npos) << forced;
    EXPECT_EQ(berth({"image", "prune", "-a", "-f"}).exit_code, 0);
    EXPECT_EQ(berth({"image", "inspect", image_id}).exit_code, 0);

    EXPECT_EQ(berth({"rm", "user"}).exit_code, 0);
    EXPECT_EQ(berth({"image", "prune", "-f"}).exit_code, 0);
    EXPECT_NE(berth({"image", "inspect", image_id}).exit_code, 0);
    expect_nothing_left();
}

// -i: this command's stdin reaches the container, all of it, though the
// container reads it slower than it arrives (the monitor queues it and the
// CLI waits for room, while output keeps flowing). Without -i: nothing.
TEST_F(EngineTest, InteractiveInputReachesTheContainer) {
    std::string input;
    for (int i = 1; i <= 200000; ++i)
        input += std::to_string(i) + "\n";
    CommandResult counted =
        run_command({BERTH_PATH, "--root", root().string(), "run", "--cgroup-parent",
                     cgroup_parent(), "-i", "--rm", "busybox", "sh", "-c", "cat; echo end"},
                    input, 60000);
    ASSERT_EQ(counted.exit_code, 0) << counted.err;
    EXPECT_EQ(counted.out.size(), input.size() + 4);
    EXPECT_TRUE(counted.out == input + "end\n") << "the input came back altered";

    CommandResult deaf = run_command({BERTH_PATH, "--root", root().string(), "run",
                                      "--cgroup-parent", cgroup_parent(), "--rm", "busybox", "cat"},
                                     "not for the container\n");
    EXPECT_EQ(deaf.exit_code, 0) << deaf;
    EXPECT_EQ(deaf.out, "");
    expect_nothing_left();
}

TEST_F(EngineTest, TtyGivesTheProcessATerminal) {
    CommandResult r = run({"--rm", "-t", "busybox", "sh", "-c", "tty; echo $TERM"});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.out, "/dev/pts/0\r\nxterm\r\n");
    expect_nothing_left();
}

// `run -it` at a terminal: keys in, output out, the size passed on; Ctrl-P
// Ctrl-Q leaves the container running; `attach` takes it up again, and the
// exit code of what runs inside comes back through it.
TEST_F(EngineTest, RunInteractiveDetachAndAttach) {
    berth_test::PtySession session({BERTH_PATH, "--root", root().string(), "run", "--cgroup-parent",
                                    cgroup_parent(), "-it", "--name", "talk", "busybox", "sh"},
                                   33, 101);
    session.type("stty -a | head -1; echo sum-$((2+3))\r");
    ASSERT_TRUE(session.wait_for("sum-5\r\n")) << session.output();
    EXPECT_NE(session.output().find("rows 33; columns 101"), std::string::npos) << session.output();
    session.type("\x10\x11");
    EXPECT_EQ(session.wait_exit(), 0) << session.output();
    EXPECT_EQ(inspect("talk")["State"]["Status"], "running");

    berth_test::PtySession again({BERTH_PATH, "--root", root().string(), "attach", "talk"});
    again.type("echo back-$((4*5))\r");
    ASSERT_TRUE(again.wait_for("back-20\r\n")) << again.output();
    again.type("exit 7\r");
    EXPECT_EQ(again.wait_exit(), 7) << again.output();
    EXPECT_EQ(inspect("talk")["State"]["ExitCode"], 7);

    CommandResult stopped = berth({"attach", "talk"});
    EXPECT_NE(stopped.exit_code, 0);
    EXPECT_NE(stopped.err.find("cannot attach to a stopped container"), std::string::npos)
        << stopped;
    EXPECT_EQ(berth({"rm", "talk"}).exit_code, 0);
    expect_nothing_left();
}

// stats measures (a busy loop uses CPU; one process), pause freezes (no
// CPU, shown as paused), unpause thaws, and a paused container can still
// be removed with -f.
TEST_F(EngineTest, PauseFreezesAndStatsMeasure) {
    CommandResult started =
        run({"-d", "--name", "busy", "busybox", "sh", "-c", "while :; do :; done"});
    ASSERT_EQ(started.exit_code, 0) << started;
    auto cpu_of = [&](const std::string& name) {
        CommandResult r =
            berth({"stats", "--no-stream", "--format", "{{.CPUPerc}} {{.PIDs}}", name});
        EXPECT_EQ(r.exit_code, 0) << r;
        return r.out;
    };
    std::string busy = cpu_of("busy");
    EXPECT_GT(std::atof(busy.c_str()), 1.0) << busy;
    EXPECT_NE(busy.find("% 1\n"), std::string::npos) << busy;

    ASSERT_EQ(berth({"pause", "busy"}).exit_code, 0);
    EXPECT_EQ(inspect("busy")["State"]["Paused"], true);
    EXPECT_NE(berth({"ps"}).out.find("(Paused)"), std::string::npos);
    EXPECT_EQ(cpu_of("busy").substr(0, 5), "0.00%");
    EXPECT_NE(berth({"pause", "busy"}).exit_code, 0) << "paused twice";

    ASSERT_EQ(berth({"unpause", "busy"}).exit_code, 0);
    EXPECT_EQ(inspect("busy")["State"]["Paused"], false);
    ASSERT_EQ(berth({"pause", "busy"}).exit_code, 0);
    // A container that does not run: zeros, as docker's, with its own name.
    ASSERT_EQ(
        berth({"create", "--cgroup-parent", cgroup_parent(), "--name", "idle", "busybox", "true"})
            .exit_code,
        0);
    CommandResult idle =
        berth({"stats", "--no-stream", "--format",
               "{{.Container}} {{.CPUPerc}} {{.MemUsage}} {{.NetIO}} {{.PIDs}}", "idle"});
    EXPECT_EQ(idle.out, "idle 0.00% 0B / 0B 0B / 0B 0\n") << idle;
    EXPECT_EQ(berth({"rm", "idle"}).exit_code, 0);
    CommandResult removed = berth({"rm", "-f", "busy"});
    EXPECT_EQ(removed.exit_code, 0) << removed;
    expect_nothing_left();
}

// --log-opt rotation as docker's json-file: logs reads across the rotated
// files; --since and --until filter by time; --log-driver none keeps none.
TEST_F(EngineTest, LogsRotateAndFilterByTime) {
    CommandResult made =
        run({"--name", "chatty", "--log-opt", "max-size=2k", "--log-opt", "max-file=3", "busybox",
             "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done"});
    ASSERT_EQ(made.exit_code, 0) << made;
    CommandResult logs = berth({"logs", "chatty"});
    ASSERT_EQ(logs.exit_code, 0) << logs;
    auto lines = lines_of(logs.out);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), "line-299");
    EXPECT_GT(lines.size(), 40u) << "the rotated files were not read";
    EXPECT_LT(lines.size(), 300u) << "nothing was rotated away";
    EXPECT_EQ(berth({"logs", "--since", "1m", "chatty"}).out, logs.out);
    EXPECT_EQ(berth({"logs", "--until", "1h", "chatty"}).out, "");
    EXPECT_EQ(berth({"logs", "--tail", "2", "chatty"}).out, "line-298\nline-299\n");
    EXPECT_EQ(berth({"rm", "chatty"}).exit_code, 0);

    CommandResult silent =
        run({"--name", "silent", "--log-driver", "none", "busybox", "echo", "x"});
    EXPECT_EQ(silent.out, "x\n") << silent;
    CommandResult unreadable = berth({"logs", "silent"});
    EXPECT_NE(unreadable.exit_code, 0);
    EXPECT_NE(unreadable.err.find("does not support reading"), std::string::npos) << unreadable;
    EXPECT_EQ(berth({"rm", "silent"}).exit_code, 0);
    EXPECT_EQ(run({"--rm", "--log-opt", "max-size=lots", "busybox", "true"}).exit_code, 125);
    expect_nothing_left();
}

// commit: the container's changes (a file added, one deleted) as a new
// layer, its command and --change instructions as the config; berth's own
// mount targets (/etc/hosts...) are not part of it.
TEST_F(EngineTest, CommitMakesAnImageOfTheChanges) {
    ASSERT_EQ(run({"--name", "maker", "busybox", "sh", "-c",
                   "echo made > /made && rm /bin/vi && mkdir -p /var/spool"})
                  .exit_code,
              0);
    CommandResult committed = berth({"commit", "-m", "a test", "-c", "ENV COMMITTED=yes", "-c",
                                     "CMD [\"cat\", \"/made\"]", "maker", "committed:1"});
    ASSERT_EQ(committed.exit_code, 0) << committed;
    EXPECT_EQ(committed.out.rfind("sha256:", 0), 0u) << committed.out;

    CommandResult out = run({"--rm", "committed:1"});
    EXPECT_EQ(out.exit_code, 0) << out;
    EXPECT_EQ(out.out, "made\n");
    CommandResult seen = run({"--rm", "committed:1", "sh", "-c",
                              "echo $COMMITTED; test -e /bin/vi || echo no-vi; cat /etc/hostname"});
    EXPECT_EQ(lines_of(seen.out).size(), 3u) << seen;
    EXPECT_EQ(lines_of(seen.out)[0], "yes");
    EXPECT_EQ(lines_of(seen.out)[1], "no-vi");
    CommandResult history = berth({"history", "--no-trunc", "committed:1"});
    EXPECT_NE(history.out.find("a test"), std::string::npos) << history.out;

    EXPECT_EQ(berth({"rm", "maker"}).exit_code, 0);
    EXPECT_EQ(berth({"rmi", "committed:1"}).exit_code, 0);
    EXPECT_NE(berth({"commit", "no-such-container"}).exit_code, 0);
    expect_nothing_left();
}
