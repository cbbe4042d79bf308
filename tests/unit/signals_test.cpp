#include "berth/base/error.h"
#include "berth/runtime/runtime.h"

#include <csignal>
#include <gtest/gtest.h>

using berth::runtime::parse_signal;

TEST(ParseSignal, NamesAndNumbers) {
    EXPECT_EQ(parse_signal("KILL"), SIGKILL);
    EXPECT_EQ(parse_signal("SIGKILL"), SIGKILL);
    EXPECT_EQ(parse_signal("term"), SIGTERM);
    EXPECT_EQ(parse_signal("9"), 9);
    EXPECT_EQ(parse_signal("SIGRTMIN+1"), SIGRTMIN + 1);
    EXPECT_THROW(parse_signal("NOPE"), berth::Error);
    EXPECT_THROW(parse_signal("0"), berth::Error);
    EXPECT_THROW(parse_signal("9x"), berth::Error);
    EXPECT_THROW(parse_signal("999"), berth::Error);
}
