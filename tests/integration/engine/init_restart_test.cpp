// --init (berth-init as PID 1) and restart policies, through the real
// command line: zombies, signals and exit codes; restart counts, backoff,
// and `stop` ending a policy.
#include "engine_fixture.hpp"

namespace {

using Clock = std::chrono::steady_clock;

class InitRestartTest : public EngineTest {
  protected:
    static std::int64_t restart_count(const std::string& name) {
        json state = inspect(name);
        return state.is_null() ? -1 : state["RestartCount"].get<std::int64_t>();
    }

    static std::string status(const std::string& name) {
        json state = inspect(name);
        return state.is_null() ? "" : state["State"]["Status"].get<std::string>();
    }

    // Polls `done` every 20 ms for up to `limit`.
    template <class Done> static bool eventually(Done done, std::chrono::milliseconds limit) {
        auto deadline = Clock::now() + limit;
        while (Clock::now() < deadline) {
            if (done()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return done();
    }

    static int zombies_in(const std::string& name) {
        CommandResult listed = berth({"exec", name, "ps", "-o", "stat,comm"});
        int count = 0;
        for (const auto& line : lines_of(listed.out))
            if (line.starts_with("Z")) ++count;
        return count;
    }
};

TEST_F(InitRestartTest, InitIsPidOneAndPassesTheExitCodeOn) {
    CommandResult result =
        run({"--rm", "--init", "busybox", "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; exit 7"});
    EXPECT_EQ(result.exit_code, 7) << result;
    EXPECT_EQ(result.out, "/sbin/docker-init -- sh -c tr '\\0' ' ' </proc/1/cmdline; exit 7 ")
        << result;
    CommandResult killed = run({"--rm", "--init", "busybox", "sh", "-c", "kill -9 $$"});
    EXPECT_EQ(killed.exit_code, 137) << killed;
    CommandResult missing = run({"--rm", "--init", "busybox", "no-such-command"});
    EXPECT_EQ(missing.exit_code, 127) << missing;
    expect_nothing_left();
}

TEST_F(InitRestartTest, InitReapsZombiesThatPidOneWouldLeave) {
    // The inner sh leaves `sleep 0.1` orphaned; it dies and waits for PID 1 to reap it.
    const std::vector<std::string> command = {"busybox", "sh", "-c",
                                              "sh -c 'sleep 0.1 & exit 0'; exec sleep 30"};
    auto with_init = command;
    with_init.insert(with_init.begin(), {"-d", "--name", "reaped", "--init"});
    ASSERT_EQ(run(with_init).exit_code, 0);
    auto without = command;
    without.insert(without.begin(), {"-d", "--name", "unreaped"});
    ASSERT_EQ(run(without).exit_code, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(zombies_in("reaped"), 0);
    EXPECT_EQ(zombies_in("unreaped"), 1) << "without --init, `sleep` as PID 1 reaps nothing";

    // SIGTERM reaches the command through berth-init: it stops at once, 128+15.
    auto before = Clock::now();
    EXPECT_EQ(berth({"stop", "-t", "5", "reaped"}).exit_code, 0);
    EXPECT_LT(Clock::now() - before, std::chrono::seconds(3)) << "not a SIGKILL after 5 s";
    EXPECT_EQ(inspect("reaped")["State"]["ExitCode"], 143);
    EXPECT_EQ(berth({"rm", "reaped"}).exit_code, 0);
    EXPECT_EQ(berth({"rm", "-f", "unreaped"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(InitRestartTest, OnFailureRestartsUpToItsLimit) {
    CommandResult started = run({"-d", "--name", "flaky", "--restart", "on-failure:2", "busybox",
                                 "sh", "-c", "echo attempt; exit 3"});
    ASSERT_EQ(started.exit_code, 0) << started;
    // 100 ms, then 200 ms of backoff: all done well within 5 s.
    EXPECT_TRUE(eventually([] { return status("flaky") == "exited"; }, std::chrono::seconds(5)));
    EXPECT_EQ(restart_count("flaky"), 2);
    EXPECT_EQ(inspect("flaky")["State"]["ExitCode"], 3);
    EXPECT_EQ(berth({"logs", "flaky"}).out, "attempt\nattempt\nattempt\n");

    // A success is no failure: on-failure does not restart it.
    ASSERT_EQ(run({"-d", "--name", "fine", "--restart", "on-failure", "busybox", "true"}).exit_code,
              0);
    EXPECT_EQ(trim(berth({"wait", "fine"}).out), "0");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(restart_count("fine"), 0);
    EXPECT_EQ(status("fine"), "exited");
    EXPECT_EQ(berth({"rm", "flaky", "fine"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(InitRestartTest, AlwaysBacksOffAndEndsWithStop) {
    ASSERT_EQ(run({"-d", "--name", "looping", "--restart", "always", "busybox", "true"}).exit_code,
              0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    // Backoff 100, 200, 400, 800 ms: at most 4 restarts in 1.2 s, not hundreds.
    auto count = restart_count("looping");
    EXPECT_GE(count, 2);
    EXPECT_LE(count, 4);
    CommandResult stopped = berth({"stop", "looping"});
    EXPECT_EQ(stopped.exit_code, 0) << stopped;
    EXPECT_EQ(status("looping"), "exited");
    auto after_stop = restart_count("looping");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(status("looping"), "exited") << "stop ends the policy";
    EXPECT_EQ(restart_count("looping"), after_stop);
    EXPECT_TRUE(no_children_soon()) << "the monitor ended";

    // `restart` starts it again, with the count afresh.
    ASSERT_EQ(
        run({"-d", "--name", "server", "--restart", "unless-stopped", "busybox", "sleep", "30"})
            .exit_code,
        0);
    pid_t first = inspect("server")["State"]["Pid"].get<pid_t>();
    CommandResult restarted = berth({"restart", "-t", "0", "server"});
    EXPECT_EQ(restarted.exit_code, 0) << restarted;
    EXPECT_EQ(status("server"), "running");
    EXPECT_NE(inspect("server")["State"]["Pid"].get<pid_t>(), first);
    EXPECT_EQ(restart_count("server"), 0);
    EXPECT_EQ(berth({"rm", "-f", "looping", "server"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(InitRestartTest, KilledByUserIsNotRestarted) {
    ASSERT_EQ(
        run({"-d", "--name", "victim", "--restart", "always", "busybox", "sleep", "30"}).exit_code,
        0);
    EXPECT_EQ(berth({"kill", "victim"}).exit_code, 0);
    EXPECT_EQ(trim(berth({"wait", "victim"}).out), "137");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(status("victim"), "exited");
    EXPECT_EQ(restart_count("victim"), 0);
    EXPECT_EQ(berth({"rm", "victim"}).exit_code, 0);
    expect_nothing_left();
}

} // namespace
