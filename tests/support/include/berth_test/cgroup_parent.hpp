// A cgroup parent of a test's own (`berth run --cgroup-parent NAME`): the
// container cgroups berth makes land below it, where a test can check that
// none is left behind, and the whole parent is removed at the end.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace berth_test {

// Directories below a cgroup named `parent`, in every hierarchy mounted
// under /sys/fs/cgroup (cgroup v1 controllers or the v2 tree).
std::vector<std::filesystem::path> cgroups_below(const std::string& parent);

// Removes every cgroup named `parent` and all below it, deepest first
// (cgroups go with rmdir, one level at a time). Best effort: a cgroup that
// still holds a process stays.
void remove_cgroup_parent(const std::string& parent);

} // namespace berth_test
