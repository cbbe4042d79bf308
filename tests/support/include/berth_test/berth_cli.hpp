// Running the berth command line under test against a store of a test's
// own. The paths of berth and of scripts/make-busybox-image are compile
// definitions of each test target (BERTH_PATH, BERTH_MAKE_BUSYBOX_IMAGE),
// not of this library, so callers pass them in.
#pragma once

#include "berth_test/run_command.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace berth_test {

// `berth --root ROOT ARGS...`.
CommandResult run_berth(const std::string& berth, const std::filesystem::path& root,
                        std::vector<std::string> args, const std::string& input = {},
                        int timeout_ms = 60000);

// Builds the busybox image into the store at `root` with `script`
// (scripts/make-busybox-image), passing it `extra_args` (e.g. --name).
CommandResult make_busybox_image(const std::string& script, const std::string& berth,
                                 const std::filesystem::path& root,
                                 std::vector<std::string> extra_args = {});

// Once per suite of tests that run berth as root: makes this process a child
// subreaper, so that monitors and containers berth leaves running end up as
// its children (see children.hpp), and points berth at a run root of the
// suite's own and at the default seccomp profile of the source tree.
void isolate_berth_suite(const std::filesystem::path& run_root, const std::string& seccomp_profile);

// `berth rm -f` of every container in the store at `root`.
void remove_all_containers(const std::string& berth, const std::filesystem::path& root);

} // namespace berth_test
