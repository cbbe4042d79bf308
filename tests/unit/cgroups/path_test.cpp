#include "berth/base/error.h"
#include "berth/runtime/cgroups.h"
#include "path.h"

#include <filesystem>
#include <gtest/gtest.h>

using namespace berth::runtime::cgroups;

TEST(CgroupPath, CleaningNeverClimbsAboveTheStart) {
    EXPECT_EQ(clean_path("/a//b/./c/"), "/a/b/c");
    EXPECT_EQ(clean_path("/../../etc"), "/etc");
    EXPECT_EQ(clean_path("a/../../b"), "b");
    EXPECT_EQ(clean_path("/"), "/");
    EXPECT_EQ(clean_path("./.."), "");
    EXPECT_EQ(join_below("/sys/fs/cgroup/memory", "../../../etc"), "/sys/fs/cgroup/memory/etc");
    EXPECT_EQ(join_below("/m", "/"), "/m");
}

TEST(CgroupPath, EmptyMeansBerthSlashId) {
    EXPECT_EQ(container_path("", "web"), "/berth/web");
    EXPECT_EQ(container_path("/a/b", "web"), "/a/b");
    EXPECT_EQ(container_path("a/../b", "web"), "b");
}

TEST(CgroupPath, RootOrOwnCgroupIsRefused) {
    for (const char* path : {"/", "/..", ".", "a/..", "//"})
        EXPECT_THROW(container_path(path, "x"), berth::Error) << path;
    EXPECT_THROW(container_path("", ".."), berth::Error);
}

TEST(CgroupPath, SystemdFormNamesTheFlag) {
    try {
        container_path("system.slice:docker:abc", "abc");
        FAIL() << "expected an error";
    } catch (const berth::Error& error) {
        EXPECT_NE(std::string(error.what()).find("--systemd-cgroup"), std::string::npos)
            << error.what();
    }
}

TEST(CgroupPath, OwnCgroupPerHierarchy) {
    std::string self = "12:pids:/p\n4:cpu,cpuacct:/c\n1:name=systemd:/s/x\n0::/u/v\n";
    EXPECT_EQ(own_cgroup(self, "pids"), "/p");
    EXPECT_EQ(own_cgroup(self, "cpuacct"), "/c");
    EXPECT_EQ(own_cgroup(self, "systemd"), "/s/x");
    EXPECT_EQ(own_cgroup(self, "unified"), "/u/v");
    EXPECT_EQ(own_cgroup(self, "memory"), "/");
}

TEST(CgroupPath, RelativePathsStartAtTheRuntimesOwnCgroup) {
    Host host{Mode::v2, "/fake/root", "0::/user.slice/me\n"};
    Cgroup relative = Cgroup::for_container("pods/x", "x", host);
    EXPECT_EQ(relative.placements().at("unified").directory, "/fake/root/user.slice/me/pods/x");
    Cgroup absolute = Cgroup::for_container("/pods/x", "x", host);
    EXPECT_EQ(absolute.placements().at("unified").directory, "/fake/root/pods/x");
    EXPECT_EQ(absolute.placements().at("unified").mount, "/fake/root");
}

TEST(CgroupPath, DetectsTheHostsLayout) {
    // A v1 controller and a "unified" directory beside it: this is a hybrid host
    // (as the project's test machines are), whatever statfs has to say about it.
    namespace fs = std::filesystem;
    if (!fs::is_directory("/sys/fs/cgroup/memory") || !fs::is_directory("/sys/fs/cgroup/unified"))
        GTEST_SKIP() << "not a hybrid layout; detect_mode says " << mode_name(detect_mode());
    EXPECT_EQ(detect_mode(), Mode::hybrid);
    EXPECT_EQ(detect_mode("/sys/fs/cgroup/unified"), Mode::v2);
    EXPECT_EQ(detect_mode("/sys/fs/cgroup/memory"), Mode::v1);
}
