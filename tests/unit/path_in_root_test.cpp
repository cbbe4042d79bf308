#include "berth/base/syscalls.h"
#include "berth_test/temp_dir.hpp"
#include "path_in_root.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

using berth::runtime::clean_path;
using berth::runtime::make_target_in_root;
using berth::runtime::TargetKind;

TEST(CleanPath, NeverClimbsAboveRoot) {
    EXPECT_EQ(clean_path("/a/./b/../c/"), "/a/c");
    EXPECT_EQ(clean_path("../../etc"), "/etc");
    EXPECT_EQ(clean_path("/"), "/");
    EXPECT_EQ(clean_path(""), "/");
    EXPECT_EQ(clean_path("//x//y"), "/x/y");
}

namespace {

std::string fd_path(int fd) {
    return std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd)).string();
}

} // namespace

// The target of a mount is created and opened inside the root even when the
// image holds symlinks that point out of it, absolute or relative.
TEST(MakeTargetInRoot, SymlinksStayInsideTheRoot) {
    berth_test::TempDir root("root"), outside("outside");
    std::filesystem::create_symlink(outside.path(), root.path() / "absolute");
    std::filesystem::create_symlink("../../../../../../" + outside.path().string(),
                                    root.path() / "relative");
    berth::UniqueFd root_fd = berth::open_fd(root.path(), O_PATH | O_DIRECTORY);

    for (const char* name : {"/absolute/target", "/relative/target"}) {
        berth::UniqueFd target = make_target_in_root(root_fd.get(), name, TargetKind::directory);
        std::string resolved = fd_path(target.get());
        EXPECT_EQ(resolved.rfind(root.path().string() + "/", 0), 0u) << name << " → " << resolved;
    }
    EXPECT_TRUE(std::filesystem::is_empty(outside.path()));
}

TEST(MakeTargetInRoot, CreatesFilesWithoutFollowingDanglingLinks) {
    berth_test::TempDir root("root"), outside("outside");
    std::filesystem::create_symlink(outside.path() / "planted", root.path() / "file");
    berth::UniqueFd root_fd = berth::open_fd(root.path(), O_PATH | O_DIRECTORY);
    berth::UniqueFd target = make_target_in_root(root_fd.get(), "/file", TargetKind::file);
    EXPECT_FALSE(std::filesystem::exists(outside.path() / "planted"));
    EXPECT_EQ(fd_path(target.get()).rfind(root.path().string() + "/", 0), 0u);
}
