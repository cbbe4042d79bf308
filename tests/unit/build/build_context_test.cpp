// The build context as COPY sees it: paths confined to the root, globs,
// .dockerignore, content digests, and copies that never follow a symlink out.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/build/build_context.h"
#include "berth_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace berth;
using namespace berth::build;
namespace fs = std::filesystem;

class BuildContextTest : public ::testing::Test {
  protected:
    void SetUp() override {
        context_ = dir_.path() / "context";
        make_directories(context_ / "src/sub");
        write_file_atomic(context_ / "src/a.c", "int a;");
        write_file_atomic(context_ / "src/b.c", "int b;");
        write_file_atomic(context_ / "src/sub/c.h", "#pragma once");
        write_file_atomic(context_ / "notes.log", "log");
        write_file_atomic(context_ / ".dockerignore", "*.log\n");
        write_file_atomic(dir_.path() / "outside", "secret");
        fs::create_symlink(dir_.path() / "outside", context_ / "src/escape");
    }

    berth_test::TempDir dir_{"berth-build-context"};
    fs::path context_;
};

TEST_F(BuildContextTest, PathsStayInsideTheRoot) {
    EXPECT_EQ(confined_path("a/./b/../c", "COPY"), "a/c");
    EXPECT_EQ(confined_path("/abs/x", "COPY"), "abs/x");
    EXPECT_THROW(confined_path("../x", "COPY"), Error);
    EXPECT_THROW(confined_path("a/../../x", "COPY"), Error);
}

TEST_F(BuildContextTest, GlobsAndIgnoreRules) {
    SourceTree tree = SourceTree::context(context_);
    EXPECT_EQ(tree.match("src/*.c"), (std::vector<std::string>{"src/a.c", "src/b.c"}));
    EXPECT_EQ(tree.match("src/*/c.?"), (std::vector<std::string>{"src/sub/c.h"}));
    EXPECT_EQ(tree.match("."), (std::vector<std::string>{""}));
    EXPECT_THROW(tree.match("*.log"), Error); // ignored: as if absent
    EXPECT_THROW(tree.match("notes.log"), Error);
    EXPECT_THROW(tree.match("missing"), Error);
    EXPECT_THROW(tree.match("../outside"), Error);
}

TEST_F(BuildContextTest, ContentDigestFollowsContent) {
    SourceTree tree = SourceTree::context(context_);
    auto before = tree.content_digest({"src"});
    EXPECT_EQ(before, tree.content_digest({"src"}));
    write_file_atomic(context_ / "notes.log", "ignored files do not count");
    EXPECT_EQ(tree.content_digest({""}), tree.content_digest({""}));
    auto whole = tree.content_digest({""});
    write_file_atomic(context_ / "notes.log", "changed again");
    EXPECT_EQ(whole, tree.content_digest({""}));
    write_file_atomic(context_ / "src/a.c", "int a = 1;");
    EXPECT_NE(before, tree.content_digest({"src"}));
}

TEST_F(BuildContextTest, CopiesKeepSymlinksAsLinks) {
    SourceTree tree = SourceTree::context(context_);
    make_directories(dir_.path() / "dest");
    UniqueFd dest = open_fd(dir_.path() / "dest", O_RDONLY | O_DIRECTORY);
    CopyOwnership owner;
    owner.uid = ::geteuid();
    owner.gid = ::getegid();
    copy_from_tree(tree, "src", dest.get(), "copied", owner);
    EXPECT_EQ(read_file(dir_.path() / "dest/copied/a.c"), "int a;");
    EXPECT_EQ(read_file(dir_.path() / "dest/copied/sub/c.h"), "#pragma once");
    EXPECT_TRUE(fs::is_symlink(dir_.path() / "dest/copied/escape"));
    // A symlink named as the source resolves inside the context only.
    EXPECT_THROW(copy_from_tree(tree, "src/escape", dest.get(), "leak", owner), Error);
    EXPECT_FALSE(fs::exists(dir_.path() / "dest/leak"));
}

TEST_F(BuildContextTest, TarArchivesAreRecognised) {
    SourceTree tree = SourceTree::context(context_);
    EXPECT_FALSE(is_tar_archive(tree, "src/a.c"));
    std::string tar_path = (context_ / "bundle.tar").string();
    ASSERT_EQ(
        std::system(("tar -cf " + tar_path + " -C " + (context_ / "src").string() + " .").c_str()),
        0);
    EXPECT_TRUE(is_tar_archive(tree, "bundle.tar"));
    make_directories(dir_.path() / "unpacked");
    UniqueFd dest = open_fd(dir_.path() / "unpacked", O_RDONLY | O_DIRECTORY);
    extract_archive(tree, "bundle.tar", dest.get());
    EXPECT_EQ(read_file(dir_.path() / "unpacked/sub/c.h"), "#pragma once");
}

} // namespace
