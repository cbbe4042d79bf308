#include "output.h"

#include <gtest/gtest.h>

#include <ctime>

using namespace berth::cli;

namespace {

std::string rfc3339_seconds_ago(long seconds) {
    std::time_t then = std::time(nullptr) - seconds;
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&then));
    return text;
}

} // namespace

TEST(Table, ColumnsLineUpWhateverTheBytesPerCharacter) {
    std::string out = table({{"COMMAND", "NAMES"}, {"\"sh -c while :; do :…\"", "a"}, {"x", "b"}});
    // "…" is three bytes and one column: every NAMES cell starts in the same column.
    EXPECT_EQ(out, "COMMAND                  NAMES\n"
                   "\"sh -c while :; do :…\"   a\n"
                   "x                        b\n");
}

TEST(TimeSince, SaysItAsDockerDoes) {
    EXPECT_EQ(time_since(rfc3339_seconds_ago(0)), "Less than a second ago");
    EXPECT_EQ(time_since(rfc3339_seconds_ago(1)), "1 second ago");
    EXPECT_EQ(time_since(rfc3339_seconds_ago(5)), "5 seconds ago");
    EXPECT_EQ(time_since(rfc3339_seconds_ago(90)), "About a minute ago");
    EXPECT_EQ(time_since(rfc3339_seconds_ago(3 * 3600)), "3 hours ago");
    EXPECT_EQ(time_since("not a time"), "N/A");
}

TEST(HumanSize, ThreeSignificantDigitsInSiUnits) {
    EXPECT_EQ(human_size(0), "0B");
    EXPECT_EQ(human_size(123456), "123kB");
    EXPECT_EQ(human_size(4260000), "4.26MB");
}

TEST(Template, RendersFieldsAndTables) {
    Template plain("{{.Name}}\\t{{.ID}}");
    EXPECT_FALSE(plain.is_table());
    EXPECT_EQ(plain.render({{"Name", "web"}, {"ID", "abc"}}), "web\tabc");
    Template tabled("table {{.ID}} {{json .Labels}}");
    EXPECT_TRUE(tabled.is_table());
    EXPECT_EQ(tabled.render({{"ID", "abc"}, {"Labels", {{"a", "b"}}}}), "abc {\"a\":\"b\"}");
}
