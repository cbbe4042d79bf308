#include "berth_test/cgroup_parent.hpp"

#include <algorithm>
#include <functional>

#include <unistd.h>

namespace berth_test {

namespace fs = std::filesystem;

namespace {

// Directories under /sys/fs/cgroup for which `wanted` holds. Deep enough for
// a parent below a v1 controller's hierarchy and a container below it.
std::vector<fs::path> cgroups_where(const std::function<bool(const fs::path&)>& wanted) {
    std::vector<fs::path> found;
    std::error_code ignored;
    for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", ignored);
         it != fs::recursive_directory_iterator(); it.increment(ignored)) {
        if (it.depth() > 6) it.disable_recursion_pending();
        if (it->is_directory(ignored) && wanted(it->path())) found.push_back(it->path());
    }
    return found;
}

} // namespace

std::vector<fs::path> cgroups_below(const std::string& parent) {
    return cgroups_where(
        [&](const fs::path& path) { return path.parent_path().filename() == parent; });
}

void remove_cgroup_parent(const std::string& parent) {
    std::error_code ignored;
    for (const auto& dir :
         cgroups_where([&](const fs::path& path) { return path.filename() == parent; })) {
        std::vector<fs::path> inner;
        for (auto sub = fs::recursive_directory_iterator(dir, ignored);
             sub != fs::recursive_directory_iterator(); sub.increment(ignored))
            if (sub->is_directory(ignored)) inner.push_back(sub->path());
        std::sort(inner.rbegin(), inner.rend());
        for (const auto& d : inner)
            ::rmdir(d.c_str());
        ::rmdir(dir.c_str());
    }
}

} // namespace berth_test
