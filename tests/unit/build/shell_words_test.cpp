#include "berth/base/error.h"
#include "berth/build/shell_words.h"

#include <gtest/gtest.h>

#include <map>

namespace {

using namespace berth::build;

const VariableLookup lookup = [](const std::string& name) -> std::optional<std::string> {
    static const std::map<std::string, std::string> values = {
        {"NAME", "world"}, {"EMPTY", ""}, {"SPACED", "a b"}};
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
};

TEST(ShellWords, PlainAndBracedVariables) {
    EXPECT_EQ(expand_word("hello $NAME", lookup), "hello world");
    EXPECT_EQ(expand_word("${NAME}s", lookup), "worlds");
    EXPECT_EQ(expand_word("$UNSET-x", lookup), "-x");
    EXPECT_EQ(expand_word("cost $5 and $", lookup), "cost  and $");
}

TEST(ShellWords, DefaultsAndAlternatives) {
    EXPECT_EQ(expand_word("${UNSET:-fallback}", lookup), "fallback");
    EXPECT_EQ(expand_word("${EMPTY:-fallback}", lookup), "fallback");
    EXPECT_EQ(expand_word("${EMPTY-fallback}", lookup), "");
    EXPECT_EQ(expand_word("${UNSET-fallback}", lookup), "fallback");
    EXPECT_EQ(expand_word("${NAME:-fallback}", lookup), "world");
    EXPECT_EQ(expand_word("${NAME:+alt}", lookup), "alt");
    EXPECT_EQ(expand_word("${EMPTY:+alt}", lookup), "");
    EXPECT_EQ(expand_word("${EMPTY+alt}", lookup), "alt");
    EXPECT_EQ(expand_word("${UNSET+alt}", lookup), "");
    EXPECT_EQ(expand_word("${UNSET:-${NAME}}", lookup), "world");
    EXPECT_THROW(expand_word("${UNSET:?must be set}", lookup), berth::Error);
    EXPECT_THROW(expand_word("${NAME", lookup), berth::Error);
    EXPECT_THROW(expand_word("${NAME/x/y}", lookup), berth::Error);
}

TEST(ShellWords, QuotesAndEscapes) {
    EXPECT_EQ(expand_word("'$NAME'", lookup), "$NAME");
    EXPECT_EQ(expand_word("\"$NAME is \\\"here\\\"\"", lookup), "world is \"here\"");
    EXPECT_EQ(expand_word("\\$NAME", lookup), "$NAME");
    EXPECT_EQ(expand_word("`$NAME", lookup, '`'), "$NAME");
    EXPECT_THROW(expand_word("'open", lookup), berth::Error);
}

TEST(ShellWords, SplittingKeepsQuotedBlanks) {
    EXPECT_EQ(expand_words("a  \"b c\" '' $SPACED", lookup),
              (std::vector<std::string>{"a", "b c", "", "a b"}));
    EXPECT_EQ(split_quoted_words("k=\"x y\" j='1 2' z"),
              (std::vector<std::string>{"k=\"x y\"", "j='1 2'", "z"}));
}

} // namespace
