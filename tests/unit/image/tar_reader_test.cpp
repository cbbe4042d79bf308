#include "berth/base/error.h"
#include "berth/image/tar_reader.h"
#include "test_archives.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace berth::image;
using berth_test::end_of_archive;
using berth_test::padded;
using berth_test::pax_record;
using berth_test::raw_header;

namespace {

std::vector<TarEntry> read_all_entries(const std::string& archive) {
    MemorySource source(archive);
    TarReader reader(source);
    std::vector<TarEntry> entries;
    TarEntry entry;
    while (reader.next(entry))
        entries.push_back(entry);
    return entries;
}

} // namespace

TEST(TarReader, JoinsUstarPrefixAndName) {
    std::string archive =
        raw_header("file.txt", '0', 3, {}, "some/deep/dir") + padded("abc") + end_of_archive();
    auto entries = read_all_entries(archive);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].path, "some/deep/dir/file.txt");
    EXPECT_EQ(entries[0].size, 3u);
}

TEST(TarReader, GnuLongNameAndLinkOverrideTheHeader) {
    std::string long_name(300, 'n');
    std::string long_link(250, 'l');
    std::string archive = raw_header("././@LongLink", 'L', long_name.size() + 1) +
                          padded(long_name + '\0') +
                          raw_header("././@LongLink", 'K', long_link.size()) + padded(long_link) +
                          raw_header("short", '2', 0, "shortlink") + end_of_archive();
    auto entries = read_all_entries(archive);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].path, long_name);
    EXPECT_EQ(entries[0].link_target, long_link);
    EXPECT_EQ(entries[0].type, TarEntryType::symlink);
}

TEST(TarReader, PaxRecordsGivePathSizeTimesAndXattrs) {
    std::string pax = pax_record("path", "a/very/long/" + std::string(150, 'p')) +
                      pax_record("mtime", "1700000000.25") + pax_record("size", "5") +
                      pax_record("SCHILY.xattr.user.color", "blue");
    std::string archive = raw_header("PaxHeaders/x", 'x', pax.size()) + padded(pax) +
                          raw_header("truncated-name", '0', 99) + padded("hello") +
                          end_of_archive();
    auto entries = read_all_entries(archive);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].path, "a/very/long/" + std::string(150, 'p'));
    EXPECT_EQ(entries[0].size, 5u); // pax size wins over the header's 99
    EXPECT_EQ(entries[0].mtime.seconds, 1700000000);
    EXPECT_EQ(entries[0].mtime.nanoseconds, 250000000u);
    EXPECT_EQ(entries[0].xattrs.at("user.color"), "blue");
}

TEST(TarReader, ReadsDataAndSkipsUnreadData) {
    std::string archive = raw_header("a", '0', 600) + padded(std::string(600, 'x')) +
                          raw_header("b", '0', 2) + padded("ok") + end_of_archive();
    MemorySource source(archive);
    TarReader reader(source);
    TarEntry entry;
    ASSERT_TRUE(reader.next(entry));
    char first[10];
    EXPECT_EQ(reader.read_data(first, sizeof first), sizeof first);
    ASSERT_TRUE(reader.next(entry)); // the other 590 bytes and padding are skipped
    EXPECT_EQ(entry.path, "b");
    char data[8] = {};
    EXPECT_EQ(reader.read_data(data, sizeof data), 2u);
    EXPECT_STREQ(data, "ok");
    EXPECT_FALSE(reader.next(entry));
}

TEST(TarReader, RefusesNulInsidePaxPath) {
    std::string pax = pax_record("path", std::string("evil\0/etc/passwd", 16));
    std::string archive =
        raw_header("x", 'x', pax.size()) + padded(pax) + raw_header("f", '0', 0) + end_of_archive();
    EXPECT_THROW(read_all_entries(archive), berth::Error);
}

TEST(TarReader, RefusesNulInsideGnuLongName) {
    std::string name = std::string("good\0bad", 8);
    std::string archive = raw_header("././@LongLink", 'L', name.size()) + padded(name) +
                          raw_header("f", '0', 0) + end_of_archive();
    EXPECT_THROW(read_all_entries(archive), berth::Error);
}

TEST(TarReader, RefusesNamesLongerThanPathMax) {
    std::string name(TarReader::max_path + 10, 'a');
    std::string archive = raw_header("././@LongLink", 'L', name.size()) + padded(name) +
                          raw_header("f", '0', 0) + end_of_archive();
    EXPECT_THROW(read_all_entries(archive), berth::Error);
    std::string pax = pax_record("path", name);
    std::string pax_archive =
        raw_header("x", 'x', pax.size()) + padded(pax) + raw_header("f", '0', 0) + end_of_archive();
    EXPECT_THROW(read_all_entries(pax_archive), berth::Error);
}

TEST(TarReader, TruncatedDataIsAnError) {
    std::string archive = raw_header("big", '0', 4096) + std::string(1000, 'x');
    MemorySource source(archive);
    TarReader reader(source);
    TarEntry entry;
    ASSERT_TRUE(reader.next(entry));
    char buffer[8192];
    EXPECT_THROW(
        {
            while (reader.read_data(buffer, sizeof buffer)) {
            }
        },
        berth::Error);
}

TEST(TarReader, TruncatedHeaderIsAnError) {
    std::string archive = raw_header("a", '0', 0).substr(0, 300);
    EXPECT_THROW(read_all_entries(archive), berth::Error);
}

TEST(TarReader, BadChecksumIsAnError) {
    std::string header = raw_header("a", '0', 0);
    header[0] = 'b';
    EXPECT_THROW(read_all_entries(header + end_of_archive()), berth::Error);
}

TEST(TarReader, RefusesOversizedPaxHeader) {
    std::string archive = raw_header("x", 'x', TarReader::max_pax_header + 1);
    EXPECT_THROW(read_all_entries(archive), berth::Error);
}

TEST(TarReader, RefusesUnknownEntryTypes) {
    EXPECT_THROW(read_all_entries(raw_header("a", 'Z', 0) + end_of_archive()), berth::Error);
}

TEST(TarReader, Base256SizeIsRead) {
    std::string header = raw_header("a", '0', 0);
    // 0x80 then big-endian 3: GNU's binary form of the number 3.
    std::memset(header.data() + 124, 0, 12);
    header[124] = static_cast<char>(0x80);
    header[135] = 3;
    std::memset(header.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : header)
        sum += c;
    std::snprintf(header.data() + 148, 8, "%06o", sum);
    header[155] = ' ';
    auto entries = read_all_entries(header + padded("xyz") + end_of_archive());
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].size, 3u);
}
