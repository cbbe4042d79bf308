// cgroup v2 hands a controller to a cgroup only when every ancestor lists it
// in cgroup.subtree_control; these make that so for a container's cgroup.
#pragma once

#include <set>
#include <string>

namespace berth::runtime::cgroups {

// The controllers the tree mounted at `mount` offers (its cgroup.controllers).
std::set<std::string> available_controllers(const std::string& mount);

// Enables `controllers` in cgroup.subtree_control of `mount` and of every
// directory between it and `directory` (excluded). Throws naming the file and
// the first controller that could not be enabled; `needed_by` says why it was
// wanted ("linux.resources.memory.limit").
void enable_controllers(const std::string& mount, const std::string& directory,
                        const std::set<std::string>& controllers, const std::string& needed_by);

// The same for every controller the tree offers, as runc does on create, but
// quietly: what cannot be enabled (a cgroup with processes in it, a
// controller kept from us) shows up as an error only when a limit needs it.
void enable_available_controllers(const std::string& mount, const std::string& directory);

} // namespace berth::runtime::cgroups
