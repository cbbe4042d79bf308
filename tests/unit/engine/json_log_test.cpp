#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/text.h"
#include "berth/engine/json_log.h"
#include "berth_test/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace berth;
using namespace berth::engine;

namespace {
std::vector<LogEntry> entries_of(const std::string& path) {
    std::vector<LogEntry> entries;
    for (const auto& line : split_lines(read_file(path))) {
        LogEntry entry;
        EXPECT_TRUE(parse_log_line(line, entry)) << line;
        entries.push_back(entry);
    }
    return entries;
}
} // namespace

TEST(JsonLog, OneEntryPerLineAndStream) {
    berth_test::TempDir dir;
    std::string path = (dir.path() / "c-json.log").string();
    {
        JsonLogWriter log(path);
        log.write(false, "hel");
        log.write(true, "oops\n");
        log.write(false, "lo\nwor");
        log.write(false, "ld\n\"quoted\"\n");
        log.write(false, "no newline");
        log.flush();
    }
    auto entries = entries_of(path);
    ASSERT_EQ(entries.size(), 5u);
    EXPECT_EQ(entries[0].stream, "stderr");
    EXPECT_EQ(entries[0].text, "oops\n");
    EXPECT_EQ(entries[1].text, "hello\n");
    EXPECT_EQ(entries[2].text, "world\n");
    EXPECT_EQ(entries[3].text, "\"quoted\"\n");
    EXPECT_EQ(entries[4].text, "no newline");
    EXPECT_EQ(entries[4].stream, "stdout");
    EXPECT_EQ(entries[0].time.size(), 30u) << entries[0].time; // 2024-05-01T10:00:00.123456789Z
}

TEST(JsonLog, LongLinesSplitLikeDocker) {
    berth_test::TempDir dir;
    std::string path = (dir.path() / "c-json.log").string();
    {
        JsonLogWriter log(path);
        log.write(false, std::string(40000, 'x') + "\n");
        log.flush();
    }
    auto entries = entries_of(path);
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].text.size(), 16384u);
    EXPECT_EQ(entries[2].text.back(), '\n');
    EXPECT_EQ(entries[0].text.size() + entries[1].text.size() + entries[2].text.size(), 40001u);
}

TEST(JsonLog, BadUtf8IsReplacedNotFatal) {
    berth_test::TempDir dir;
    std::string path = (dir.path() / "c-json.log").string();
    {
        JsonLogWriter log(path);
        log.write(false, "\xff\xfe ok\n");
    }
    auto entries = entries_of(path);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_NE(entries[0].text.find("ok"), std::string::npos);
}

TEST(JsonLog, MalformedLinesAreSkipped) {
    LogEntry entry;
    EXPECT_FALSE(parse_log_line("not json", entry));
    EXPECT_FALSE(parse_log_line("{\"stream\":\"stdout\"}", entry));
}

// max-size and max-file: no file grows past the size, at most max-file
// files exist, the newest lines are kept, and log_files lists them oldest first.
TEST(JsonLog, RotatesBySizeKeepingTheNewest) {
    berth_test::TempDir dir;
    std::string path = (dir.path() / "c-json.log").string();
    LogRotation rotation = parse_log_options({{"max-size", "1k"}, {"max-file", "3"}});
    EXPECT_EQ(rotation.max_size, 1000u);
    {
        JsonLogWriter log(path, rotation);
        for (int i = 0; i < 200; ++i)
            log.write(false, "line-" + std::to_string(i) + "\n");
    }
    std::vector<std::string> files = log_files(path);
    ASSERT_EQ(files.size(), 3u);
    EXPECT_EQ(files.back(), path);
    EXPECT_EQ(files.front(), path + ".2");
    std::vector<LogEntry> all;
    for (const auto& file : files) {
        EXPECT_LE(read_file(file).size(), 1000u) << file;
        for (auto& entry : entries_of(file))
            all.push_back(entry);
    }
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.back().text, "line-199\n");
    // In order, with nothing missing between the oldest kept and the newest.
    int first = std::stoi(all.front().text.substr(5));
    for (std::size_t i = 0; i < all.size(); ++i)
        EXPECT_EQ(all[i].text, "line-" + std::to_string(first + static_cast<int>(i)) + "\n");
}

TEST(JsonLog, BadOptionsAreRefused) {
    EXPECT_THROW(parse_log_options({{"max-size", "ten"}}), Error);
    EXPECT_THROW(parse_log_options({{"max-size", "10q"}}), Error);
    EXPECT_THROW(parse_log_options({{"max-file", "0"}}), Error);
    EXPECT_THROW(parse_log_options({{"max-file", "2"}}), Error); // needs max-size
    EXPECT_THROW(parse_log_options({{"compress", "true"}}), Error);
    EXPECT_EQ(parse_log_options({{"max-size", "2m"}}).max_size, 2000000u);
}

// berth-monitor quotes log text itself (it links no JSON library): byte for
// byte what nlohmann's dump writes with invalid UTF-8 replaced, for every
// control character, quotes, backslashes, multi-byte UTF-8 and bad bytes.
TEST(JsonLog, OwnQuotingMatchesNlohmann) {
    std::vector<std::string> samples = {"plain",
                                        "\"quoted\" \\ back/slash",
                                        "é ü 日本 😀",
                                        "\x7f del",
                                        "\xc3\x28 bad pair",
                                        "\xed\xa0\x80 surrogate",
                                        "\xf4\x90\x80\x80 past max",
                                        "cut \xe6\x97",
                                        "\xe6\x97 cut inside",
                                        "\x80\xbf lone",
                                        "\xf0\x9f\x98 x"};
    std::string controls;
    for (int c = 0; c < 0x20; ++c)
        controls.push_back(static_cast<char>(c));
    samples.push_back(controls);
    for (const auto& text : samples) {
        std::string ours;
        berth::engine::append_json_string(ours, text);
        std::string theirs =
            nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        EXPECT_EQ(ours, theirs) << text;
    }
}
