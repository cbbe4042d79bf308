// The small monitor a running container keeps (berth-monitor, exec'd by the
// monitor once the container has started): its memory is the bar of issue 5
// (well under 1 MiB private per container), and the exec must leak nothing
// into the container nor keep the CLI's database or lock fds.
#include "engine_fixture.hpp"

#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <map>
#include <thread>

namespace {

// Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, in KiB.
long private_kib(pid_t pid) {
    std::string rollup = read_text("/proc/" + std::to_string(pid) + "/smaps_rollup");
    long total = 0;
    for (const char* field : {"Private_Clean:", "Private_Dirty:"}) {
        auto at = rollup.find(field);
        if (at == std::string::npos) return -1;
        total += std::atol(rollup.c_str() + at + std::strlen(field));
    }
    return total;
}

std::string exe_of(pid_t pid) {
    std::error_code ignored;
    return fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ignored).filename();
}

std::vector<std::string> fd_targets(pid_t pid) {
    std::vector<std::string> targets;
    std::error_code ignored;
    for (const auto& entry :
         fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ignored))
        targets.push_back(entry.path().filename().string() + " -> " +
                          fs::read_symlink(entry.path(), ignored).string());
    std::sort(targets.begin(), targets.end());
    return targets;
}

TEST_F(EngineTest, EachMonitorStaysUnderOneMiBOfPrivateMemory) {
    constexpr int containers = 50;
    std::vector<std::string> ids;
    for (int i = 0; i < containers; ++i) {
        CommandResult started = run({"-d", "--network", "none", "busybox", "sleep", "1000"});
        ASSERT_EQ(started.exit_code, 0) << started;
        ids.push_back(trim(started.out));
    }
    // Every monitor is our child (we are a child subreaper).
    std::vector<pid_t> monitors = living_children();
    EXPECT_EQ(monitors.size(), static_cast<std::size_t>(containers));
    long largest = 0, sum = 0;
    for (pid_t monitor : monitors) {
        // `run -d` returns at the monitor's "started", which comes just
        // before its exec of berth-monitor: on a loaded machine, later.
        for (int i = 0; i < 500 && exe_of(monitor) != "berth-monitor"; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        EXPECT_EQ(exe_of(monitor), "berth-monitor") << "the monitor did not exec berth-monitor";
        long kib = private_kib(monitor);
        ASSERT_GE(kib, 0);
        largest = std::max(largest, kib);
        sum += kib;
    }
    EXPECT_LT(largest, 1024) << "KiB of private memory in the largest monitor";
    std::cout << "monitors: " << monitors.size() << ", private KiB: largest " << largest
              << ", mean " << (monitors.empty() ? 0 : sum / static_cast<long>(monitors.size()))
              << "\n";
    // Still a working monitor: the container stops and goes.
    for (const auto& id : ids) {
        CommandResult removed = berth({"rm", "-f", id});
        EXPECT_EQ(removed.exit_code, 0) << removed;
    }
    expect_nothing_left();
}

TEST_F(EngineTest, NeitherContainerNorMonitorHoldsTheCommandsFds) {
    CommandResult started = run({"-d", "--network", "none", "busybox", "sleep", "1000"});
    ASSERT_EQ(started.exit_code, 0) << started;
    std::string id = trim(started.out);
    pid_t init = inspect(id)["State"]["Pid"].get<pid_t>();
    ASSERT_GT(init, 0);
    // `run -d` returns once the init is released, maybe before its exec
    // (as runc's start): until then it is berth's, its fds close-on-exec.
    for (int i = 0; i < 200 && exe_of(init) != "busybox"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::vector<std::string> init_fds = fd_targets(init);
    ASSERT_EQ(init_fds.size(), 3u) << ::testing::PrintToString(init_fds);
    EXPECT_EQ(init_fds[0], "0 -> /dev/null");
    EXPECT_EQ(init_fds[1].substr(0, 10), "1 -> pipe:");
    EXPECT_EQ(init_fds[2].substr(0, 10), "2 -> pipe:");

    std::vector<pid_t> monitors = living_children();
    ASSERT_EQ(monitors.size(), 1u);
    std::vector<std::string> monitor_fds = fd_targets(monitors[0]);
    for (const auto& target : monitor_fds) {
        EXPECT_EQ(target.find("berth.db"), std::string::npos) << target;
        EXPECT_EQ(target.find(".lock"), std::string::npos) << target;
        EXPECT_EQ(target.find("/images/"), std::string::npos) << target;
    }
    // stdio, the container's two pipes, the pidfd, the log, the attach listener.
    EXPECT_LE(monitor_fds.size(), 8u) << ::testing::PrintToString(monitor_fds);

    // The exec'd monitor still logs, stops the container and records its exit.
    CommandResult logged = berth({"exec", id, "sh", "-c", "echo to-the-log > /proc/1/fd/1"});
    EXPECT_EQ(logged.exit_code, 0) << logged;
    for (int i = 0; i < 100 && berth({"logs", id}).out.find("to-the-log") == std::string::npos; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(berth({"logs", id}).out, "to-the-log\n");
    CommandResult stopped = berth({"stop", "-t", "1", id});
    EXPECT_EQ(stopped.exit_code, 0) << stopped;
    json state = inspect(id)["State"];
    EXPECT_EQ(state["Status"], "exited");
    EXPECT_EQ(state["ExitCode"], 137);
    EXPECT_EQ(berth({"rm", id}).exit_code, 0);
    expect_nothing_left();
}

// The name `ps` shows for a process (what the monitor's prctl sets).
std::string comm_of(pid_t pid) {
    return trim(read_text("/proc/" + std::to_string(pid) + "/comm"));
}

// An attached run is watched by the monitor's first stage itself for a
// second (a short container ends there, two execs sooner), then handed to
// berth-monitor in the same process, mid-stream: the output, the log (a line
// unfinished at the hand-over included), input sent after it and the exit
// code come through whole.
TEST_F(EngineTest, AttachedRunIsHandedToBerthMonitorMidStream) {
    std::string script = "read first; echo got $first; printf half-; sleep 2; echo line; "
                         "read second; echo got $second; exit 7";
    std::string pipeline = "(echo one; sleep 2.5; echo two) | \"$0\" --root \"$1\" run -i --name "
                           "handed --cgroup-parent \"$2\" --network none busybox sh -c \"$3\"";
    CommandResult result;
    std::thread attached([&] {
        result = berth_test::run_command(
            {"sh", "-c", pipeline, BERTH_PATH, root().string(), cgroup_parent(), script}, {},
            30000);
    });
    // Past the first second the monitor has become berth-monitor.
    std::this_thread::sleep_for(std::chrono::milliseconds(1800));
    std::vector<std::string> monitors;
    for (pid_t child : living_children())
        if (comm_of(child) == "berth-monitor") monitors.push_back(exe_of(child));
    attached.join();
    EXPECT_EQ(monitors, std::vector<std::string>{"berth-monitor"});
    EXPECT_EQ(result.exit_code, 7) << result;
    EXPECT_EQ(result.out, "got one\nhalf-line\ngot two\n") << result;
    CommandResult logs = berth({"logs", "handed"});
    EXPECT_EQ(logs.out, "got one\nhalf-line\ngot two\n") << logs;
    std::string log_file =
        read_text(root() / "containers" / inspect("handed")["Id"].get<std::string>() /
                  (inspect("handed")["Id"].get<std::string>() + "-json.log"));
    EXPECT_NE(log_file.find("\"log\":\"half-line\\n\""), std::string::npos)
        << "one entry for the line the hand-over cut: " << log_file;
    EXPECT_EQ(berth({"rm", "handed"}).exit_code, 0);
    expect_nothing_left();
}

// A restart (the policy) runs in the same monitor process: berth's exit
// command starts the container again, then execs berth-monitor again.
TEST_F(EngineTest, RestartKeepsOneSmallMonitor) {
    CommandResult started = run({"-d", "--network", "none", "--restart", "on-failure:2", "busybox",
                                 "sh", "-c", "echo run; exit 3"});
    ASSERT_EQ(started.exit_code, 0) << started;
    std::string id = trim(started.out);
    CommandResult waited = berth({"wait", id}, 30000);
    json state;
    for (int i = 0; i < 200; ++i) {
        state = inspect(id);
        if (state["State"]["Status"] == "exited") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(state["State"]["Status"], "exited");
    EXPECT_EQ(state["State"]["ExitCode"], 3);
    EXPECT_EQ(state["RestartCount"], 2);
    EXPECT_EQ(berth({"logs", id}).out, "run\nrun\nrun\n");
    EXPECT_EQ(berth({"rm", id}).exit_code, 0);
    expect_nothing_left();
}

} // namespace

namespace {

// berth-monitor on its own, with a plain child process as the "init": the
// json-file log, the periodic command (the health checks' hook) and the exit
// command with the init's wait status.
TEST(BerthMonitor, LogsRunsThePeriodicCommandAndExecsTheExitCommand) {
    berth_test::TempDir dir("berth-monitor-test");
    std::string log = (dir.path() / "c-json.log").string();
    std::string ticks = (dir.path() / "ticks").string();
    std::string result = (dir.path() / "result").string();
    int out[2], err[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
    std::vector<std::string> words = {BERTH_MONITOR_PATH,
                                      "--stdout=" + std::to_string(out[0]),
                                      "--stderr=" + std::to_string(err[0]),
                                      "--log=" + log,
                                      "--every-ms=100",
                                      "--periodic=/bin/sh",
                                      "--periodic=-c",
                                      "--periodic=echo tick >> " + ticks,
                                      "--",
                                      "/bin/sh",
                                      "-c",
                                      "echo \"$@\" > " + result,
                                      "sh"};
    pid_t relay = ::fork();
    ASSERT_GE(relay, 0);
    if (relay == 0) {
        pid_t init = ::fork();
        if (init == 0) {
            ::dup2(out[1], 1);
            ::dup2(err[1], 2);
            ::execl("/bin/sh", "sh", "-c", "echo out; echo err >&2; sleep 0.6; exit 7", nullptr);
            ::_exit(127);
        }
        ::close(out[1]);
        ::close(err[1]);
        // The init stays this process's child across the exec.
        words.insert(words.begin() + 1, "--init-pid=" + std::to_string(init));
        std::vector<char*> argv;
        for (auto& word : words)
            argv.push_back(word.data());
        argv.push_back(nullptr);
        for (int fd : {out[0], err[0]})
            ::fcntl(fd, F_SETFD, 0);
        ::execv(argv[0], argv.data());
        ::_exit(126);
    }
    for (int fd : {out[0], out[1], err[0], err[1]})
        ::close(fd);
    int status = 0;
    ASSERT_EQ(::waitpid(relay, &status, 0), relay);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

    // The wait status of exit 7, how long it ran, and no attached command.
    std::string appended = trim(read_text(result));
    EXPECT_EQ(appended.rfind("--status=" + std::to_string(7 << 8) + " --ran-ms=", 0), 0u)
        << appended;
    EXPECT_NE(appended.find(" --control=-1"), std::string::npos) << appended;
    std::map<std::string, std::string> by_stream;
    std::stringstream lines(read_text(log));
    for (std::string line; std::getline(lines, line);) {
        json entry = json::parse(line);
        by_stream[entry["stream"]] += entry["log"].get<std::string>();
        EXPECT_EQ(entry["time"].get<std::string>().back(), 'Z');
    }
    EXPECT_EQ(by_stream["stdout"], "out\n");
    EXPECT_EQ(by_stream["stderr"], "err\n");
    // About 6 in 0.6 s; a loaded machine may run fewer.
    std::string ticked = read_text(ticks);
    auto tick_count = static_cast<std::size_t>(std::count(ticked.begin(), ticked.end(), '\n'));
    EXPECT_GE(tick_count, 2u);
    EXPECT_LE(tick_count, 8u);
}

} // namespace
