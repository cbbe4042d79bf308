// Whether this process runs without real root: rootless berth commands run
// as uid 0 inside a user namespace of the user's own, where "root" may
// mount an overlay but may not chown to unmapped ids, make devices or
// create cgroups.
#pragma once

namespace berth {

// True outside any user namespace but the host's (uid_map is the identity
// over every id).
bool in_initial_user_namespace();

// An unprivileged user: not uid 0, or uid 0 of a user namespace.
bool rootless();

// True if group `gid` of this process's user namespace maps to a host group
// (a rootless namespace without /etc/subgid ranges maps only 0).
bool group_is_mapped(unsigned long gid);

} // namespace berth
