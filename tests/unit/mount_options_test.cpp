#include "berth/base/error.h"
#include "mount_options.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

using berth::runtime::parse_mount_options;

TEST(MountOptions, SplitsFlagsFromFilesystemData) {
    auto options = parse_mount_options({"nosuid", "ro", "mode=755", "size=65536k", "newinstance"});
    EXPECT_EQ(options.attr_set, MOUNT_ATTR_NOSUID | MOUNT_ATTR_RDONLY);
    ASSERT_EQ(options.data.size(), 3u);
    EXPECT_EQ(options.data[0], (std::pair<std::string, std::string>{"mode", "755"}));
    EXPECT_EQ(options.data[2], (std::pair<std::string, std::string>{"newinstance", ""}));
    EXPECT_FALSE(options.bind);
}

TEST(MountOptions, LaterOptionsWin) {
    auto options = parse_mount_options({"ro", "rw", "noexec", "exec"});
    EXPECT_EQ(options.attr_set, 0u);
    EXPECT_EQ(options.attr_clear, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC);
}

TEST(MountOptions, RecursiveAttributesAndBinds) {
    auto options = parse_mount_options({"rbind", "rro", "rnosuid"});
    EXPECT_TRUE(options.bind);
    EXPECT_TRUE(options.recursive_bind);
    EXPECT_EQ(options.recursive_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
    EXPECT_EQ(options.attr_set, 0u);
}

TEST(MountOptions, AtimeIsOneSetting) {
    auto options = parse_mount_options({"noatime", "strictatime"});
    EXPECT_EQ(options.attr_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_STRICTATIME);
    EXPECT_TRUE(options.attr_clear & MOUNT_ATTR__ATIME);
}

TEST(MountOptions, Propagation) {
    auto options = parse_mount_options({"rslave"});
    EXPECT_EQ(options.propagation, static_cast<unsigned long>(MS_SLAVE));
    EXPECT_TRUE(options.recursive_propagation);
    EXPECT_EQ(berth::runtime::parse_propagation("rprivate"), MS_PRIVATE | MS_REC);
    EXPECT_THROW(berth::runtime::parse_propagation("sideways"), berth::Error);
}

TEST(MountOptions, RefusesWhatItCannotHonour) {
    EXPECT_THROW(parse_mount_options({"idmap"}), berth::Error);
}
