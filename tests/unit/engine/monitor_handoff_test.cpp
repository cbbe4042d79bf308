// The argv contract between the monitor's stages (monitor_handoff.h): what
// one stage encodes, the other decodes unchanged; bad words are refused.
#include "../../../src/engine/monitor_handoff.h"

#include "berth/base/error.h"

#include <gtest/gtest.h>

using namespace berth::engine;

TEST(MonitorHandoff, RelayPlanSurvivesItsWords) {
    RelayPlan plan;
    plan.init_pid = 4242;
    plan.stdout_read = 5;
    plan.stderr_read = 6;
    plan.console = 7;
    plan.stdin_write = 8;
    plan.console_input = true;
    plan.control = 9;
    plan.attach_listener = 10;
    plan.log_path = "/var/lib/berth/containers/abc/abc-json.log";
    plan.log_rotation = {.max_size = 1000000, .max_files = 3};
    plan.periodic_command = {"/usr/bin/berth", "healthcheck", "run", "a b=c", "--"};
    plan.periodic_interval_ms = 30000;
    plan.exit_command = {"/usr/bin/berth", "__monitor-exited", "--id=abc", "--"};

    RelayPlan decoded = decode_relay_plan(encode_relay_plan(plan));
    EXPECT_EQ(decoded.init_pid, 4242);
    EXPECT_EQ(decoded.stdout_read, 5);
    EXPECT_EQ(decoded.stderr_read, 6);
    EXPECT_EQ(decoded.console, 7);
    EXPECT_EQ(decoded.stdin_write, 8);
    EXPECT_TRUE(decoded.console_input);
    EXPECT_EQ(decoded.control, 9);
    EXPECT_EQ(decoded.attach_listener, 10);
    EXPECT_EQ(decoded.log_path, plan.log_path);
    EXPECT_EQ(decoded.log_rotation.max_size, 1000000u);
    EXPECT_EQ(decoded.log_rotation.max_files, 3u);
    EXPECT_EQ(decoded.periodic_command, plan.periodic_command);
    EXPECT_EQ(decoded.periodic_interval_ms, 30000);
    // Everything after the first "--" is the exit command, a "--" of its own included.
    EXPECT_EQ(decoded.exit_command, plan.exit_command);
}

TEST(MonitorHandoff, NoLogAndNoPeriodicCommandByDefault) {
    RelayPlan plan;
    plan.init_pid = 1;
    plan.exit_command = {"/bin/true"};
    RelayPlan decoded = decode_relay_plan(encode_relay_plan(plan));
    EXPECT_TRUE(decoded.log_path.empty());
    EXPECT_TRUE(decoded.periodic_command.empty());
    EXPECT_EQ(decoded.control, -1);
    EXPECT_EQ(decoded.console, -1);
}

TEST(MonitorHandoff, BadWordsAreRefused) {
    EXPECT_THROW(decode_relay_plan({"--init-pid=12", "--"}), berth::Error); // no exit command
    EXPECT_THROW(decode_relay_plan({"--", "/bin/true"}), berth::Error);     // no init
    EXPECT_THROW(decode_relay_plan({"--init-pid=x1", "--", "/bin/true"}), berth::Error);
    EXPECT_THROW(decode_relay_plan({"--init-pid=1", "--stdout=", "--", "/bin/true"}), berth::Error);
    EXPECT_THROW(decode_relay_plan({"--init-pid=1", "--what=1", "--", "/bin/true"}), berth::Error);
    EXPECT_THROW(decode_relay_plan({"--init-pid=1", "--periodic=/bin/true", "--", "/bin/true"}),
                 berth::Error); // no interval
}

TEST(MonitorHandoff, TheOutcomeIsTakenOffTheExitCommandsWords) {
    std::vector<std::string> words = {"--id=abc", "--status=256", "--delay-ms=100", "--ran-ms=1234",
                                      "--control=-1"};
    RelayOutcome outcome = take_relay_outcome(words);
    EXPECT_EQ(outcome.wait_status, 256);
    EXPECT_EQ(outcome.ran_ms, 1234);
    EXPECT_EQ(outcome.control, -1);
    EXPECT_EQ(words, (std::vector<std::string>{"--id=abc", "--delay-ms=100"}));
}

// Stage one's own watch hands berth-monitor the time run so far and the
// start of a log line, whatever bytes it holds.
TEST(MonitorHandoff, TheFirstWatchsLeftoversSurviveTheirWords) {
    RelayPlan plan;
    plan.init_pid = 7;
    plan.exit_command = {"/bin/true"};
    plan.ran_before_ms = 1003;
    plan.unfinished_stdout = std::string("prompt \x1b[1m$ \0\xff", 13);
    plan.unfinished_stderr = "--not=a word";
    RelayPlan decoded = decode_relay_plan(encode_relay_plan(plan));
    EXPECT_EQ(decoded.ran_before_ms, 1003);
    EXPECT_EQ(decoded.unfinished_stdout, plan.unfinished_stdout);
    EXPECT_EQ(decoded.unfinished_stderr, plan.unfinished_stderr);
    EXPECT_THROW(decode_relay_plan({"--init-pid=1", "--unfinished-stdout=abc", "--", "/bin/true"}),
                 berth::Error); // odd length
    EXPECT_THROW(decode_relay_plan({"--init-pid=1", "--unfinished-stdout=zz", "--", "/bin/true"}),
                 berth::Error);
}
