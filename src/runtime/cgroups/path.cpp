#include "path.h"

#include "berth/base/error.h"
#include "berth/base/text.h"

#include <algorithm>
#include <vector>

namespace berth::runtime::cgroups {

std::string clean_path(std::string_view path) {
    bool absolute = !path.empty() && path.front() == '/';
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        auto slash = path.find('/');
        std::string_view part = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
            continue;
        }
        parts.push_back(part);
    }
    std::string cleaned = absolute ? "/" : "";
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) cleaned += '/';
        cleaned += parts[i];
    }
    return cleaned;
}

std::string container_path(const std::string& cgroups_path, const std::string& id) {
    if (cgroups_path.empty()) {
        std::string path = clean_path("/berth/" + id);
        if (path == "/berth" || path == "/") fail("container id \"" + id + "\" is no cgroup name");
        return path;
    }
    if (std::count(cgroups_path.begin(), cgroups_path.end(), ':') == 2 &&
        cgroups_path.find('/') == std::string::npos)
        fail("linux.cgroupsPath \"" + cgroups_path +
             "\" is systemd's slice:prefix:name form, which needs --systemd-cgroup; berth-runtime "
             "manages cgroups only through cgroupfs for now: give a path such as \"/berth/" +
             id + "\"");
    std::string path = clean_path(cgroups_path);
    if (path.empty() || path == "/")
        fail(
            "linux.cgroupsPath \"" + cgroups_path +
            "\" names the root cgroup or the runtime's own; a container needs a cgroup of its own");
    return path;
}

std::string own_cgroup(const std::string& proc_self_cgroup, const std::string& hierarchy) {
    for (const std::string& line : split_lines(proc_self_cgroup)) {
        // "4:memory:/a/b", "1:name=systemd:/x", "3:cpu,cpuacct:/", "0::/y"
        auto first = line.find(':');
        auto second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos) continue;
        std::string controllers = line.substr(first + 1, second - first - 1);
        std::string path = line.substr(second + 1);
        if (hierarchy == "unified") {
            if (controllers.empty()) return clean_path(path);
            continue;
        }
        std::string wanted = hierarchy == "systemd" ? "name=systemd" : hierarchy;
        for (const std::string& name : split(controllers, ','))
            if (name == wanted) return clean_path(path);
    }
    return "/";
}

std::string join_below(const std::string& base, const std::string& relative) {
    std::string below = clean_path("/" + relative);
    if (below == "/") return base;
    return (base == "/" ? "" : base) + below;
}

} // namespace berth::runtime::cgroups
