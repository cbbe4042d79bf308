// Health checks: --health-* and the image's HEALTHCHECK, run by the
// monitor every interval and by `berth healthcheck run`; inspect's
// State.Health, ps's "(healthy)" and `ps --filter health=`.
#include "engine_fixture.hpp"

namespace {

class HealthTest : public EngineTest {
  protected:
    // Polls inspect until State.Health.Status is `status` (at most ~10 s).
    json wait_for_health(const std::string& container, const std::string& status) {
        json health;
        for (int i = 0; i < 200; ++i) {
            health = inspect(container)["State"]["Health"];
            if (health.is_object() && health["Status"] == status) return health;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ADD_FAILURE() << container << " never became " << status << ": " << health.dump();
        return health;
    }

    std::vector<std::string> names_with(const std::string& filter) {
        return lines_of(berth({"ps", "--filter", filter, "--format", "{{.Names}}"}).out);
    }
};

TEST_F(HealthTest, PassingChecksMakeItHealthy) {
    ASSERT_EQ(run({"-d", "--name", "fine", "--health-cmd", "echo ok", "--health-interval", "200ms",
                   "busybox", "sleep", "60"})
                  .exit_code,
              0);
    json config = inspect("fine")["Config"]["Healthcheck"];
    EXPECT_EQ(config["Test"], json({"CMD-SHELL", "echo ok"}));
    EXPECT_EQ(config["Interval"], 200'000'000);
    EXPECT_EQ(config["Retries"], 3) << "Docker's default";
    json health = wait_for_health("fine", "healthy");
    EXPECT_EQ(health["FailingStreak"], 0);
    ASSERT_FALSE(health["Log"].empty());
    EXPECT_EQ(health["Log"].back()["ExitCode"], 0);
    EXPECT_EQ(health["Log"].back()["Output"], "ok\n");
    // The monitor goes on checking; the log keeps the last 5, as Docker's.
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    EXPECT_EQ(inspect("fine")["State"]["Health"]["Log"].size(), 5u);
    std::string status = trim(berth({"ps", "--format", "{{.Status}}", "-f", "name=fine"}).out);
    EXPECT_TRUE(status.ends_with("(healthy)")) << status;
    EXPECT_EQ(names_with("health=healthy"), std::vector<std::string>{"fine"});
    EXPECT_TRUE(names_with("health=unhealthy").empty());
    EXPECT_EQ(berth({"healthcheck", "run", "fine"}).exit_code, 0);
    EXPECT_EQ(berth({"rm", "-f", "fine"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(HealthTest, FailuresInARowMakeItUnhealthy) {
    ASSERT_EQ(run({"-d", "--name", "sick", "--health-cmd", "echo bad >&2; exit 1",
                   "--health-interval", "100ms", "--health-retries", "2", "busybox", "sleep", "60"})
                  .exit_code,
              0);
    json health = wait_for_health("sick", "unhealthy");
    EXPECT_GE(health["FailingStreak"], 2);
    EXPECT_EQ(health["Log"].back()["ExitCode"], 1);
    EXPECT_EQ(health["Log"].back()["Output"], "bad\n");
    std::string status = trim(berth({"ps", "--format", "{{.Status}}", "-f", "name=sick"}).out);
    EXPECT_TRUE(status.ends_with("(unhealthy)")) << status;
    EXPECT_EQ(names_with("health=unhealthy"), std::vector<std::string>{"sick"});
    CommandResult once = berth({"healthcheck", "run", "sick"});
    EXPECT_EQ(once.exit_code, 1) << once;
    EXPECT_EQ(once.out, "unhealthy\n");
    // A restart starts afresh: "starting" until a check passes or fails enough.
    ASSERT_EQ(berth({"rm", "-f", "sick"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(HealthTest, StartPeriodAndTimeout) {
    ASSERT_EQ(
        run({"-d", "--name", "slow", "--health-cmd", "exit 1", "--health-interval", "1h",
             "--health-start-period", "1h", "--health-retries", "1", "busybox", "sleep", "60"})
            .exit_code,
        0);
    json before = inspect("slow")["State"]["Health"];
    EXPECT_EQ(before["Status"], "starting");
    std::string status = trim(berth({"ps", "--format", "{{.Status}}", "-f", "name=slow"}).out);
    EXPECT_TRUE(status.ends_with("(health: starting)")) << status;
    CommandResult once = berth({"healthcheck", "run", "slow"});
    EXPECT_EQ(once.exit_code, 1);
    EXPECT_EQ(once.out, "starting\n");
    json during = inspect("slow")["State"]["Health"];
    EXPECT_EQ(during["Status"], "starting") << "a failure in the start period does not count";
    EXPECT_EQ(during["FailingStreak"], 0);
    EXPECT_EQ(during["Log"].size(), 1u);
    EXPECT_EQ(names_with("health=starting"), std::vector<std::string>{"slow"});

    ASSERT_EQ(run({"-d", "--name", "stuck", "--health-cmd", "sleep 10", "--health-timeout", "300ms",
                   "--health-interval", "1h", "--health-retries", "1", "busybox", "sleep", "60"})
                  .exit_code,
              0);
    auto start = std::chrono::steady_clock::now();
    CommandResult timed_out = berth({"healthcheck", "run", "stuck"});
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_EQ(timed_out.exit_code, 1) << timed_out;
    json health = inspect("stuck")["State"]["Health"];
    EXPECT_EQ(health["Status"], "unhealthy");
    EXPECT_EQ(health["Log"].back()["ExitCode"], -1);
    EXPECT_EQ(health["Log"].back()["Output"], "Health check exceeded timeout (300ms)");
    EXPECT_EQ(berth({"rm", "-f", "slow", "stuck"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(HealthTest, TheImagesHealthcheckAndNoHealthcheck) {
    fs::path context = root().parent_path() / "health-context";
    fs::create_directories(context);
    std::ofstream(context / "Dockerfile")
        << "FROM busybox\nHEALTHCHECK --interval=100ms --retries=1 CMD [\"test\", \"-e\", "
           "\"/tmp/ok\"]\n";
    CommandResult built = berth({"build", "-q", "-t", "checked", context.string()}, 60000);
    ASSERT_EQ(built.exit_code, 0) << built;
    fs::remove_all(context);

    ASSERT_EQ(run({"-d", "--name", "from-image", "checked", "sleep", "60"}).exit_code, 0);
    EXPECT_EQ(inspect("from-image")["Config"]["Healthcheck"]["Test"],
              json({"CMD", "test", "-e", "/tmp/ok"}));
    wait_for_health("from-image", "unhealthy");
    ASSERT_EQ(berth({"exec", "from-image", "touch", "/tmp/ok"}).exit_code, 0);
    wait_for_health("from-image", "healthy");

    ASSERT_EQ(
        run({"-d", "--name", "unchecked", "--no-healthcheck", "checked", "sleep", "60"}).exit_code,
        0);
    EXPECT_EQ(inspect("unchecked")["State"]["Health"], nullptr);
    EXPECT_EQ(names_with("health=none"), std::vector<std::string>{"unchecked"});
    CommandResult none = berth({"healthcheck", "run", "unchecked"});
    EXPECT_EQ(none.exit_code, 125);
    EXPECT_NE(none.err.find("has no healthcheck configured"), std::string::npos) << none;
    EXPECT_EQ(berth({"rm", "-f", "from-image", "unchecked"}).exit_code, 0);
    EXPECT_EQ(berth({"rmi", "checked"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(HealthTest, BadInputIsRefused) {
    auto refused = [&](std::vector<std::string> args, const std::string& message) {
        CommandResult result = run(args);
        EXPECT_EQ(result.exit_code, 125) << result;
        EXPECT_NE(result.err.find(message), std::string::npos) << result;
        EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result;
    };
    refused({"--health-interval", "soon", "--health-cmd", "true", "busybox", "true"},
            "invalid argument \"soon\" for \"--health-interval\" flag");
    refused({"--health-timeout", "-1s", "--health-cmd", "true", "busybox", "true"},
            "invalid duration");
    refused({"--health-interval", "10us", "--health-cmd", "true", "busybox", "true"},
            "Interval in Healthcheck cannot be less than 1ms");
    refused({"--no-healthcheck", "--health-cmd", "true", "busybox", "true"},
            "--no-healthcheck conflicts with --health-* options");
    CommandResult missing = berth({"healthcheck", "run", "nothing-here"});
    EXPECT_EQ(missing.exit_code, 125);
    ASSERT_EQ(
        berth({"create", "--name", "idle", "--health-cmd", "true", "busybox", "true"}).exit_code,
        0);
    CommandResult stopped = berth({"healthcheck", "run", "idle"});
    EXPECT_EQ(stopped.exit_code, 125);
    EXPECT_NE(stopped.err.find("is not running"), std::string::npos) << stopped;
    EXPECT_EQ(berth({"ps", "-f", "health=sickly"}).exit_code != 0, true);
    EXPECT_EQ(berth({"rm", "idle"}).exit_code, 0);
    expect_nothing_left();
}

} // namespace
