// The processes a test adopts. Suites that start berth make themselves a
// child subreaper (prctl PR_SET_CHILD_SUBREAPER), so every monitor or
// container process berth leaves running is reparented to the test process,
// where these helpers find it.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace berth_test {

// Our children that still run (zombies excluded) whose comm is `comm`, or
// all of them if `comm` is empty.
std::vector<pid_t> children_named(const std::string& comm);

// Our children that still run, whatever their name.
std::vector<pid_t> living_children();

// Reaps every child that has exited, without blocking.
void reap_zombies();

} // namespace berth_test
