// From config.json's linux.cgroupsPath to a path inside each hierarchy.
#pragma once

#include <string>
#include <string_view>

namespace berth::runtime::cgroups {

// `path` cleaned as if rooted at "/": no ".", "..", or repeated slashes, and
// no ".." can climb above the start. Absolute stays absolute ("/a/b"),
// relative stays relative ("a/b"); "" or "/" for nothing left.
std::string clean_path(std::string_view path);

// The container's path in a hierarchy: absolute, or relative to the
// runtime's own cgroup. Empty `cgroups_path` means "/berth/<id>". Throws for
// systemd's "slice:prefix:name" and for paths that clean to nothing (they
// would make the container's cgroup the root or our own).
std::string container_path(const std::string& cgroups_path, const std::string& id);

// The runtime's own cgroup in one hierarchy, from /proc/self/cgroup's text:
// `hierarchy` is a v1 controller ("memory"), "systemd" for name=systemd, or
// "unified" for the cgroup2 line ("0::/path"). "/" when it is not listed.
std::string own_cgroup(const std::string& proc_self_cgroup, const std::string& hierarchy);

// `base` + "/" + `relative`, cleaned; `relative` can not climb out of `base`.
std::string join_below(const std::string& base, const std::string& relative);

} // namespace berth::runtime::cgroups
