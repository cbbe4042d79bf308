// A command's options are defined only when it is the one invoked, so the
// words that say which one must be read right, whatever options come first.
#include "commands.h"

#include <gtest/gtest.h>

using namespace berth::cli;

namespace {

std::vector<std::string> words_of(std::vector<std::string> arguments) {
    std::vector<char*> argv;
    for (auto& argument : arguments)
        argv.push_back(argument.data());
    return command_words_of(static_cast<int>(argv.size()), argv.data());
}

GlobalOptions invoking(std::vector<std::string> arguments) {
    GlobalOptions global;
    global.command_words = words_of(std::move(arguments));
    return global;
}

} // namespace

TEST(CommandWords, SkipOptionsAndTheValueOfRoot) {
    using Words = std::vector<std::string>;
    EXPECT_EQ(words_of({"berth", "run", "--rm", "busybox"}), (Words{"run", "busybox"}));
    EXPECT_EQ(words_of({"berth", "--root", "/r", "container", "run"}), (Words{"container", "run"}));
    EXPECT_EQ(words_of({"berth", "--root=/r", "ps", "-a"}), (Words{"ps"}));
    EXPECT_EQ(words_of({"berth", "--version"}), Words{});
}

TEST(CommandWords, OnlyTheInvokedCommandIsDefinedInFull) {
    EXPECT_TRUE(might_invoke(invoking({"berth", "run", "busybox"}), {"run"}));
    EXPECT_FALSE(might_invoke(invoking({"berth", "run", "busybox"}), {"create"}));
    EXPECT_FALSE(might_invoke(invoking({"berth", "run", "busybox"}), {"container", "run"}));
    EXPECT_TRUE(might_invoke(invoking({"berth", "container", "run", "x"}), {"container", "run"}));
    EXPECT_FALSE(might_invoke(invoking({"berth", "container", "run", "x"}), {"run"}));
    EXPECT_FALSE(might_invoke(invoking({"berth", "container"}), {"container", "run"}));
    EXPECT_FALSE(might_invoke(invoking({"berth", "--help"}), {"run"}));
}
