// An overlay upper directory written as a layer: whiteouts and opaque
// directories in tar form, hard links, owners, clamped times, sorted order,
// and the round trip through apply_layer.
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/layer_apply.h"
#include "berth/image/layer_diff.h"
#include "berth_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace {

using namespace berth;
using namespace berth::image;

struct Listed {
    std::vector<TarEntry> entries;
    std::map<std::string, std::string> data;
};

Listed list_tar(int fd) {
    ::lseek(fd, 0, SEEK_SET);
    FdSource source(fd, "tar");
    TarReader reader(source);
    Listed listed;
    TarEntry entry;
    while (reader.next(entry)) {
        std::string data;
        char buffer[4096];
        while (std::size_t n = reader.read_data(buffer, sizeof buffer))
            data.append(buffer, n);
        listed.data[entry.path] = data;
        listed.entries.push_back(entry);
    }
    return listed;
}

class LayerDiffTest : public ::testing::Test {
  protected:
    void SetUp() override {
        upper_ = dir_.path() / "upper";
        make_directories(upper_ / "etc/sub");
        write_file_atomic(upper_ / "etc/b.conf", "bee");
        write_file_atomic(upper_ / "etc/a.conf", "ay");
        ASSERT_EQ(::link((upper_ / "etc/a.conf").c_str(), (upper_ / "etc/a-link").c_str()), 0);
        ASSERT_EQ(::symlink("a.conf", (upper_ / "etc/sym").c_str()), 0);
        ::utimensat(AT_FDCWD, (upper_ / "etc/b.conf").c_str(), nullptr, 0);
    }

    Listed diff(const LayerDiffOptions& options = {}) {
        UniqueFd upper = open_fd(upper_, O_RDONLY | O_DIRECTORY);
        UniqueFd out = open_fd(dir_.path(), O_RDWR | O_TMPFILE, 0600);
        write_layer_from_upper(upper.get(), out.get(), options);
        return list_tar(out.get());
    }

    berth_test::TempDir dir_{"berth-layer-diff"};
    std::filesystem::path upper_;
};

TEST_F(LayerDiffTest, SortedEntriesWithHardLinksAndSymlinks) {
    Listed listed = diff();
    std::vector<std::string> paths;
    for (const auto& entry : listed.entries)
        paths.push_back(entry.path);
    EXPECT_EQ(paths, (std::vector<std::string>{"etc/", "etc/a-link", "etc/a.conf", "etc/b.conf",
                                               "etc/sub/", "etc/sym"}));
    EXPECT_EQ(listed.entries[1].type, TarEntryType::regular);
    EXPECT_EQ(listed.data["etc/a-link"], "ay");
    EXPECT_EQ(listed.entries[2].type, TarEntryType::hard_link);
    EXPECT_EQ(listed.entries[2].link_target, "etc/a-link");
    EXPECT_EQ(listed.data["etc/b.conf"], "bee");
    EXPECT_EQ(listed.entries[5].type, TarEntryType::symlink);
    EXPECT_EQ(listed.entries[5].link_target, "a.conf");
}

TEST_F(LayerDiffTest, ClampsTimesAndLeavesOutExcludedPaths) {
    LayerDiffOptions options;
    options.clamp_mtime = 1000;
    options.excluded = {"etc/sub", "etc/sym"};
    Listed listed = diff(options);
    EXPECT_EQ(listed.entries.size(), 4u);
    for (const auto& entry : listed.entries)
        EXPECT_EQ(entry.mtime.seconds, 1000) << entry.path;
}

TEST_F(LayerDiffTest, SameTreeGivesTheSameDigest) {
    ContentStore blobs((dir_.path() / "store").string());
    UniqueFd upper = open_fd(upper_, O_RDONLY | O_DIRECTORY);
    LayerDiffOptions options;
    options.clamp_mtime = 0;
    auto first = store_layer_from_upper(blobs, upper.get(), dir_.path(), options).layer;
    ::utimensat(AT_FDCWD, (upper_ / "etc/a.conf").c_str(), nullptr, 0);
    auto stored = store_layer_from_upper(blobs, upper.get(), dir_.path(), options);
    auto second = stored.layer;
    EXPECT_EQ(stored.stats.entries, 6u);
    EXPECT_EQ(stored.stats.bytes, 5u); // "ay" once (the link has no data) and "bee"
    EXPECT_EQ(first.digest, second.digest);
    EXPECT_EQ(first.media_type, oci::media_type::oci_layer);
    EXPECT_EQ(static_cast<std::uint64_t>(first.size), blobs.size(first.digest));
}

TEST_F(LayerDiffTest, WhiteoutsAndOpaqueDirectoriesBecomeTarWhiteouts) {
    if (::geteuid() != 0) GTEST_SKIP() << "whiteouts and trusted xattrs need root";
    ASSERT_EQ(::mknod((upper_ / "etc/gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
    ASSERT_EQ(::setxattr((upper_ / "etc/sub").c_str(), overlay_opaque_xattr, "y", 1, 0), 0);
    ASSERT_EQ(::chown((upper_ / "etc/b.conf").c_str(), 12, 34), 0);
    Listed listed = diff();
    std::map<std::string, TarEntry> by_path;
    for (const auto& entry : listed.entries)
        by_path[entry.path] = entry;
    ASSERT_TRUE(by_path.contains("etc/.wh.gone"));
    EXPECT_EQ(by_path["etc/.wh.gone"].type, TarEntryType::regular);
    EXPECT_TRUE(by_path.contains("etc/sub/.wh..wh..opq"));
    EXPECT_FALSE(by_path["etc/sub/"].xattrs.contains(overlay_opaque_xattr));
    EXPECT_EQ(by_path["etc/b.conf"].uid, 12u);
    EXPECT_EQ(by_path["etc/b.conf"].gid, 34u);

    // Applied again as a layer, the whiteouts are back in overlay's form.
    make_directories(dir_.path() / "applied");
    UniqueFd applied = open_fd(dir_.path() / "applied", O_RDONLY | O_DIRECTORY);
    UniqueFd upper = open_fd(upper_, O_RDONLY | O_DIRECTORY);
    UniqueFd out = open_fd(dir_.path(), O_RDWR | O_TMPFILE, 0600);
    write_layer_from_upper(upper.get(), out.get());
    ::lseek(out.get(), 0, SEEK_SET);
    FdSource source(out.get(), "tar");
    TarReader reader(source);
    apply_layer(reader, applied.get());
    struct stat info {};
    ASSERT_EQ(::lstat((dir_.path() / "applied/etc/gone").c_str(), &info), 0);
    EXPECT_TRUE(S_ISCHR(info.st_mode));
    char value[2] = {};
    EXPECT_EQ(::getxattr((dir_.path() / "applied/etc/sub").c_str(), overlay_opaque_xattr, value,
                         sizeof value),
              1);
}

} // namespace
