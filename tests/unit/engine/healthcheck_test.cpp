// The health check rules: durations, the merge with the image's
// HEALTHCHECK, and Docker's status transitions.
#include "berth/base/error.h"
#include "berth/engine/healthcheck.h"

#include <gtest/gtest.h>

namespace berth::engine {
namespace {

TEST(GoDuration, ParsesDockersForms) {
    EXPECT_EQ(parse_go_duration("30s", "--x"), 30'000'000'000);
    EXPECT_EQ(parse_go_duration("1m30s", "--x"), 90'000'000'000);
    EXPECT_EQ(parse_go_duration("500ms", "--x"), 500'000'000);
    EXPECT_EQ(parse_go_duration("1.5s", "--x"), 1'500'000'000);
    EXPECT_EQ(parse_go_duration("0", "--x"), 0);
    for (const char* bad : {"", "5", "s", "-1s", "1x", "1s2", ".s", "1.2.3s", "99999999999h"})
        EXPECT_THROW(parse_go_duration(bad, "--x"), Error) << bad;
    EXPECT_EQ(format_go_duration(300'000'000), "300ms");
    EXPECT_EQ(format_go_duration(30'000'000'000), "30s");
    EXPECT_EQ(format_go_duration(90'000'000'000), "1m30s");
    EXPECT_EQ(format_go_duration(1'500'000'000), "1.5s");
}

TEST(EffectiveHealthcheck, FlagsOverTheImageThenDefaults) {
    oci::Healthcheck image;
    image.test = {"CMD", "check"};
    image.interval = 5'000'000'000;
    image.retries = 7;
    auto only_image = effective_healthcheck({}, image);
    ASSERT_TRUE(only_image);
    EXPECT_EQ(only_image->test, (std::vector<std::string>{"CMD", "check"}));
    EXPECT_EQ(only_image->interval_ns, 5'000'000'000);
    EXPECT_EQ(only_image->timeout_ns, default_health_timeout_ns);
    EXPECT_EQ(only_image->retries, 7);

    HealthcheckRequest flags;
    flags.test = {"CMD-SHELL", "curl -f localhost"};
    flags.retries = 2;
    auto merged = effective_healthcheck(flags, image);
    EXPECT_EQ(merged->test.front(), "CMD-SHELL");
    EXPECT_EQ(merged->interval_ns, 5'000'000'000) << "the image's interval stays";
    EXPECT_EQ(merged->retries, 2);
    EXPECT_EQ(healthcheck_command(*merged),
              (std::vector<std::string>{"/bin/sh", "-c", "curl -f localhost"}));

    EXPECT_FALSE(effective_healthcheck(HealthcheckRequest{.test = {"NONE"}}, image));
    EXPECT_FALSE(effective_healthcheck({}, std::nullopt));
    EXPECT_THROW(effective_healthcheck(HealthcheckRequest{.test = {"CMD"}}, std::nullopt), Error);
    EXPECT_THROW(effective_healthcheck(HealthcheckRequest{.test = {"RUN", "x"}}, std::nullopt),
                 Error);
}

TEST(HealthState, FollowsDockersRules) {
    HealthcheckRequest check{.test = {"CMD", "x"}, .retries = 2};
    HealthState state;
    HealthResult failed{.exit_code = 1}, passed{.exit_code = 0};
    record_health_result(state, failed, check, true);
    EXPECT_EQ(state.status, "starting") << "a failure in the start period counts for nothing";
    EXPECT_EQ(state.failing_streak, 0);
    record_health_result(state, failed, check, false);
    EXPECT_EQ(state.status, "starting");
    EXPECT_EQ(state.failing_streak, 1);
    record_health_result(state, failed, check, false);
    EXPECT_EQ(state.status, "unhealthy");
    record_health_result(state, passed, check, false);
    EXPECT_EQ(state.status, "healthy");
    EXPECT_EQ(state.failing_streak, 0);
    record_health_result(state, failed, check, true);
    EXPECT_EQ(state.failing_streak, 1) << "once healthy, the start period no longer excuses";
    for (int i = 0; i < 10; ++i)
        record_health_result(state, passed, check, false);
    EXPECT_EQ(state.log.size(), 5u);

    HealthState round_trip = health_state_from_json(health_state_to_json(state));
    EXPECT_EQ(round_trip.status, "healthy");
    EXPECT_EQ(round_trip.log.size(), 5u);
    EXPECT_EQ(health_status_suffix("starting"), " (health: starting)");
    EXPECT_EQ(health_status_suffix("healthy"), " (healthy)");
}

} // namespace
} // namespace berth::engine
