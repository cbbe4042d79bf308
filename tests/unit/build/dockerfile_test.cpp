#include "berth/base/error.h"
#include "berth/build/dockerfile.h"

#include <gtest/gtest.h>

namespace {

using berth::build::parse_dockerfile;

std::string error_of(std::string_view text) {
    try {
        parse_dockerfile(text);
    } catch (const berth::Error& error) {
        return error.what();
    }
    return "";
}

TEST(Dockerfile, InstructionsWithLinesAndCaseInsensitiveKeywords) {
    auto file = parse_dockerfile(
        "# a comment\nfrom busybox AS base\n\nrun echo hi\nCMD [\"sh\", \"-c\"]\n");
    ASSERT_EQ(file.instructions.size(), 3u);
    EXPECT_EQ(file.instructions[0].keyword, "FROM");
    EXPECT_EQ(file.instructions[0].line, 2);
    EXPECT_EQ(file.instructions[0].arguments, "busybox AS base");
    EXPECT_EQ(file.instructions[1].keyword, "RUN");
    EXPECT_EQ(file.instructions[1].line, 4);
    EXPECT_FALSE(file.instructions[1].json_form);
    EXPECT_TRUE(file.instructions[2].json_form);
    EXPECT_EQ(file.instructions[2].json_arguments, (std::vector<std::string>{"sh", "-c"}));
}

TEST(Dockerfile, ContinuationsSkipCommentsAndBlankLines) {
    auto file = parse_dockerfile("RUN echo a \\\n# inside\n\n    b \\  \n  c\nUSER x\n");
    ASSERT_EQ(file.instructions.size(), 2u);
    EXPECT_EQ(file.instructions[0].arguments, "echo a     b   c");
    EXPECT_EQ(file.instructions[1].line, 6);
}

TEST(Dockerfile, EscapeDirectiveChangesTheContinuationCharacter) {
    auto file =
        parse_dockerfile("# escape=`\n# syntax=docker/dockerfile:1\nRUN dir c:\\ `\n  && echo\n");
    EXPECT_EQ(file.escape, '`');
    EXPECT_EQ(file.syntax, "docker/dockerfile:1");
    ASSERT_EQ(file.instructions.size(), 1u);
    EXPECT_EQ(file.instructions[0].arguments, "dir c:\\   && echo");
}

TEST(Dockerfile, DirectivesOnlyCountAtTheTop) {
    auto file = parse_dockerfile("FROM x\n# escape=`\nRUN a \\\n b\n");
    EXPECT_EQ(file.escape, '\\');
    EXPECT_EQ(file.instructions[1].arguments, "a  b");
    EXPECT_NE(error_of("# escape=x\nFROM a\n"), "");
    EXPECT_NE(error_of("# escape=`\n# escape=`\nFROM a\n"), "");
}

TEST(Dockerfile, FlagsAreParsedAndCheckedPerInstruction) {
    auto file = parse_dockerfile(
        "COPY --from=build --chown=1:2 --link a b\nFROM --platform=linux/amd64 x\n");
    const auto& copy = file.instructions[0];
    ASSERT_EQ(copy.flags.size(), 3u);
    EXPECT_EQ(copy.flag("from")->value, "build");
    EXPECT_EQ(copy.flag("chown")->value, "1:2");
    EXPECT_FALSE(copy.flag("link")->value.has_value());
    EXPECT_EQ(copy.arguments, "a b");
    EXPECT_EQ(file.instructions[1].flag("platform")->value, "linux/amd64");
    EXPECT_EQ(error_of("FROM a\n\nCOPY --bogus=1 a b\n"),
              "Dockerfile:3: unknown flag --bogus for COPY");
    EXPECT_EQ(error_of("FROM a\nUSER --from=x a\n"), "Dockerfile:2: unknown flag --from for USER");
}

TEST(Dockerfile, UnknownInstructionNamesItsLine) {
    EXPECT_EQ(error_of("FROM a\nRUN x \\\n  y\nFOO bar\n"),
              "Dockerfile:4: unknown instruction FOO");
}

TEST(Dockerfile, HeredocsCollectTheirBodies) {
    auto file =
        parse_dockerfile("FROM a\nRUN <<EOF\necho one\necho two\nEOF\n"
                         "COPY <<-\"END\" <<two /dst\n\tquoted $X\n\tEND\nsecond\ntwo\nUSER x\n");
    ASSERT_EQ(file.instructions.size(), 4u);
    const auto& run = file.instructions[1];
    ASSERT_EQ(run.heredocs.size(), 1u);
    EXPECT_EQ(run.heredocs[0].delimiter, "EOF");
    EXPECT_EQ(run.heredocs[0].body, "echo one\necho two\n");
    EXPECT_TRUE(run.heredocs[0].expand);
    const auto& copy = file.instructions[2];
    ASSERT_EQ(copy.heredocs.size(), 2u);
    EXPECT_EQ(copy.heredocs[0].body, "quoted $X\n");
    EXPECT_FALSE(copy.heredocs[0].expand);
    EXPECT_EQ(copy.heredocs[1].body, "second\n");
    EXPECT_EQ(file.instructions[3].keyword, "USER");
    EXPECT_EQ(file.instructions[3].line, 11);
    EXPECT_EQ(error_of("RUN <<EOF\nnever closed\n"),
              "Dockerfile:1: heredoc <<EOF is not closed by a line EOF");
}

TEST(Dockerfile, QuotedHeredocMarkersAndHereStringsAreNotHeredocs) {
    auto file = parse_dockerfile("RUN echo '<<EOF' && cat <<<word\nUSER x\n");
    EXPECT_TRUE(file.instructions[0].heredocs.empty());
    EXPECT_EQ(file.instructions.size(), 2u);
}

TEST(Dockerfile, JsonFormNeedsAnArrayOfStrings) {
    auto file = parse_dockerfile("CMD [\"a\", 1]\nENTRYPOINT [not json\n");
    EXPECT_FALSE(file.instructions[0].json_form);
    EXPECT_FALSE(file.instructions[1].json_form);
}

TEST(Dockerfile, CrLfLineEndings) {
    auto file = parse_dockerfile("FROM a\r\nRUN b \\\r\n c\r\n");
    ASSERT_EQ(file.instructions.size(), 2u);
    EXPECT_EQ(file.instructions[1].arguments, "b  c");
}

} // namespace
