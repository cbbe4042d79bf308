#include "berth/base/error.h"
#include "berth/build/add_source.h"

#include <gtest/gtest.h>

namespace {

using namespace berth::build;

TEST(AddSource, UrlsAndGitRepositories) {
    EXPECT_TRUE(is_remote_url("https://example.com/a.tar.gz"));
    EXPECT_TRUE(is_remote_url("HTTP://example.com/x"));
    EXPECT_FALSE(is_remote_url("example.com/x"));
    EXPECT_FALSE(is_remote_url("https://github.com/moby/moby.git"));
    EXPECT_TRUE(is_git_url("https://github.com/moby/moby.git#v1.0"));
    EXPECT_TRUE(is_git_url("https://github.com/moby/moby.git/"));
    EXPECT_TRUE(is_git_url("git@github.com:moby/moby"));
    EXPECT_TRUE(is_git_url("git://host/repo"));
    EXPECT_FALSE(is_git_url("https://host/file.gitignore"));
    EXPECT_FALSE(is_git_url("src/repo.git"));
}

TEST(AddSource, FileNamesFromUrls) {
    EXPECT_EQ(url_file_name("https://host/a/b.tar.gz?x=1#frag"), "b.tar.gz");
    EXPECT_EQ(url_file_name("https://host/a/"), "");
    EXPECT_EQ(url_file_name("https://host"), "");
    EXPECT_EQ(url_file_name("http://host/.."), "");
}

TEST(AddSource, Checksums) {
    std::string hex(64, 'a');
    EXPECT_EQ(parse_checksum("sha256:" + hex).hex(), hex);
    EXPECT_THROW(parse_checksum("sha256:" + hex.substr(1)), berth::Error);
    EXPECT_THROW(parse_checksum("sha512:" + hex), berth::Error);
    EXPECT_THROW(parse_checksum("sha256:" + std::string(64, 'A')), berth::Error);
}

TEST(AddSource, HttpDates) {
    EXPECT_EQ(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480);
    EXPECT_EQ(parse_http_date("Wednesday, 21-Oct-15 07:28:00 GMT"), 1445412480);
    EXPECT_EQ(parse_http_date("Wed Oct 21 07:28:00 2015"), 1445412480);
    EXPECT_EQ(parse_http_date("yesterday"), std::nullopt);
    EXPECT_EQ(parse_http_date(""), std::nullopt);
}

TEST(AddSource, ParentsPivot) {
    EXPECT_EQ(split_parents_pivot("a/./b/c"), std::make_pair(std::string("a"), std::string("b/c")));
    EXPECT_EQ(split_parents_pivot("./a/b"), std::make_pair(std::string(""), std::string("a/b")));
    EXPECT_EQ(split_parents_pivot("./x/./y"), std::make_pair(std::string("x"), std::string("y")));
    EXPECT_THROW(split_parents_pivot("../a"), berth::Error);
    EXPECT_THROW(split_parents_pivot("a/./../../b"), berth::Error);
}

} // namespace
