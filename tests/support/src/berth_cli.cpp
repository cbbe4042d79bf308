#include "berth_test/berth_cli.hpp"

#include "berth_test/text.hpp"

#include <cstdlib>

#include <sys/prctl.h>

namespace berth_test {

CommandResult run_berth(const std::string& berth, const std::filesystem::path& root,
                        std::vector<std::string> args, const std::string& input, int timeout_ms) {
    args.insert(args.begin(), {berth, "--root", root.string()});
    return run_command(args, input, timeout_ms);
}

CommandResult make_busybox_image(const std::string& script, const std::string& berth,
                                 const std::filesystem::path& root,
                                 std::vector<std::string> extra_args) {
    // SIGPIPE ignored: the script's `busybox | head -1` dies of it under
    // pipefail when head exits first (a fix for the script is pending).
    std::vector<std::string> argv = {"bash", "-c",     "trap '' PIPE; exec \"$@\"",
                                     "bash", script,   "--berth",
                                     berth,  "--root", root.string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    return run_command(argv, {}, 60000);
}

void isolate_berth_suite(const std::filesystem::path& run_root,
                         const std::string& seccomp_profile) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::setenv("BERTH_RUNROOT", run_root.c_str(), 1);
    ::setenv("BERTH_SECCOMP_PROFILE", seccomp_profile.c_str(), 1);
}

void remove_all_containers(const std::string& berth, const std::filesystem::path& root) {
    for (const auto& id : lines_of(run_berth(berth, root, {"ps", "-aq", "--no-trunc"}).out))
        run_berth(berth, root, {"rm", "-f", id});
}

} // namespace berth_test
