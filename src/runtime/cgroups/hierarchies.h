// The cgroup v1 hierarchies a host mounts under its cgroup root.
#pragma once

#include <map>
#include <string>

namespace berth::runtime::cgroups {

// Controller (or "systemd" for the name=systemd hierarchy) → the canonical
// mount directory, found by name under `cgroup_root` the way distributions
// lay them out: "cpu" and "cpuacct" are often symlinks to one "cpu,cpuacct"
// mount, and then both map to that directory. The "unified" cgroup2 tree of
// hybrid hosts is not among them.
std::map<std::string, std::string> v1_hierarchies(const std::string& cgroup_root);

} // namespace berth::runtime::cgroups
