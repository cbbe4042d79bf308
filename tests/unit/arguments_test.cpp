#include "arguments.h"
#include "berth/base/error.h"

#include <gtest/gtest.h>

using berth::runtime_cli::FlagSpec;
using berth::runtime_cli::parse_arguments;

namespace {
const std::vector<FlagSpec> flags = {{{"bundle", "b"}, true}, {{"detach", "d"}, false}};
}

// go-runc and runc's users write flags in every form the Go flag package accepts.
TEST(Arguments, EveryFormOfAFlag) {
    for (std::vector<std::string> args : {
             std::vector<std::string>{"x", "--bundle", "/b", "id"},
             std::vector<std::string>{"x", "--bundle=/b", "id"},
             std::vector<std::string>{"x", "-bundle", "/b", "id"},
             std::vector<std::string>{"x", "-b", "/b", "id"},
             std::vector<std::string>{"x", "id", "--bundle", "/b"},
         }) {
        auto parsed = parse_arguments(args, 1, flags, false);
        EXPECT_EQ(parsed.value("bundle"), "/b");
        EXPECT_EQ(parsed.positional, std::vector<std::string>{"id"});
    }
}

TEST(Arguments, SwitchesAndErrors) {
    auto parsed = parse_arguments({"x", "-d", "id"}, 1, flags, false);
    EXPECT_TRUE(parsed.has("detach"));
    parsed = parse_arguments({"x", "--detach=false", "id"}, 1, flags, false);
    EXPECT_FALSE(parsed.has("detach"));
    EXPECT_THROW(parse_arguments({"x", "--nope"}, 1, flags, false), berth::Error);
    EXPECT_THROW(parse_arguments({"x", "--bundle"}, 1, flags, false), berth::Error);
}

TEST(Arguments, GlobalFlagsStopAtTheCommand) {
    std::size_t next = 0;
    auto parsed =
        parse_arguments({"x", "--bundle", "/b", "run", "--detach"}, 1, flags, true, &next);
    EXPECT_EQ(next, 3u);
    EXPECT_EQ(parsed.value("bundle"), "/b");
}
