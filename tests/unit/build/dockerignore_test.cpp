#include "berth/base/error.h"
#include "berth/build/dockerignore.h"

#include <gtest/gtest.h>

namespace {

using namespace berth::build;

TEST(DockerIgnore, GoMatchSemanticsPerComponent) {
    EXPECT_TRUE(match_component("*.go", "main.go"));
    EXPECT_FALSE(match_component("*.go", "main.c"));
    EXPECT_TRUE(match_component("a?c", "abc"));
    EXPECT_TRUE(match_component("[a-c]x", "bx"));
    EXPECT_FALSE(match_component("[^a-c]x", "bx"));
    EXPECT_TRUE(match_component("\\*", "*"));
    EXPECT_FALSE(match_component("\\*", "a"));
}

TEST(DockerIgnore, PatternsExcludeFilesAndDirectories) {
    IgnoreRules rules("# comment\n*.log\n/build\ntmp/*/cache\n\n");
    EXPECT_TRUE(rules.excluded("x.log"));
    EXPECT_FALSE(rules.excluded("sub/x.log")); // * does not cross '/'
    EXPECT_TRUE(rules.excluded("build"));
    EXPECT_TRUE(rules.excluded("build/out/a.o")); // inside an excluded directory
    EXPECT_TRUE(rules.excluded("tmp/a/cache"));
    EXPECT_FALSE(rules.excluded("tmp/a/b/cache"));
    EXPECT_FALSE(rules.excluded("src/main.c"));
}

TEST(DockerIgnore, DoubleStarCrossesDirectories) {
    IgnoreRules rules("**/*.o\ndocs/**/draft\n");
    EXPECT_TRUE(rules.excluded("a.o"));
    EXPECT_TRUE(rules.excluded("x/y/z.o"));
    EXPECT_TRUE(rules.excluded("docs/draft"));
    EXPECT_TRUE(rules.excluded("docs/a/b/draft/file"));
    EXPECT_FALSE(rules.excluded("docs/a/b/final"));
}

TEST(DockerIgnore, LastMatchWinsWithExceptions) {
    IgnoreRules rules("*.md\n!README.md\nREADME*.md\n!README-keep.md\n");
    EXPECT_TRUE(rules.excluded("CHANGES.md"));
    EXPECT_TRUE(rules.excluded("README.md"));
    EXPECT_FALSE(rules.excluded("README-keep.md"));
    EXPECT_TRUE(rules.has_exceptions());
    IgnoreRules simple("*\n!keep\n");
    EXPECT_TRUE(simple.excluded("other"));
    EXPECT_FALSE(simple.excluded("keep"));
}

TEST(DockerIgnore, PathsAreCleaned) {
    IgnoreRules rules("./a/../b/\n");
    EXPECT_TRUE(rules.excluded("b"));
    EXPECT_TRUE(rules.excluded("./b/c"));
    EXPECT_EQ(clean_relative_path("/x/./y//z/../w"), "x/y/w");
}

TEST(DockerIgnore, MalformedPatternIsAnError) {
    EXPECT_THROW(IgnoreRules("[abc\n"), berth::Error);
    EXPECT_THROW(IgnoreRules("abc\\\n"), berth::Error);
}

} // namespace
