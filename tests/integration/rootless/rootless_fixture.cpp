// RootlessTest: an unused host uid, the state directory and bundles handed
// over to it, and berth-runtime run as it.
#include "rootless_fixture.hpp"

#include <fstream>
#include <system_error>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace berth_it {

HostUser unused_host_user() {
    // Above the usual ranges of system and login accounts, below nobody.
    for (uid_t id = 59000; id < 65000; ++id)
        if (!::getpwuid(id) && !::getgrgid(id)) return {id, id};
    throw std::runtime_error("no uid between 59000 and 65000 is free of accounts");
}

void hand_over(const fs::path& path, const HostUser& user) {
    if (::lchown(path.c_str(), user.uid, user.gid) < 0)
        throw std::system_error(errno, std::generic_category(), "chown " + path.string());
    if (!fs::is_directory(fs::symlink_status(path))) return;
    for (const auto& entry : fs::recursive_directory_iterator(path))
        if (::lchown(entry.path().c_str(), user.uid, user.gid) < 0)
            throw std::system_error(errno, std::generic_category(),
                                    "chown " + entry.path().string());
}

void RootlessTest::SetUp() {
    RuntimeTest::SetUp();
    if (::geteuid() != 0) GTEST_SKIP() << "needs root, to become an unprivileged user";
    user_ = unused_host_user();
    hand_over(home_.path(), user_);
    hand_over(root(), user_);
    // Distributions may forbid user namespaces to unprivileged users
    // (Debian's kernel.unprivileged_userns_clone, Ubuntu's AppArmor rule).
    auto probe = as_user({"unshare", "--user", "--map-root-user", "true"});
    if (probe.exit_code != 0)
        GTEST_SKIP() << "unprivileged users cannot create user namespaces here: " << probe.err;
}

CommandResult RootlessTest::as_user(std::vector<std::string> argv, int timeout_ms) const {
    std::vector<std::string> prefix = {
        "setpriv", "--reuid", std::to_string(user_.uid), "--regid", std::to_string(user_.gid),
        "--clear-groups", "--inh-caps=-all",
        // A login's environment, nothing of root's.
        "env", "-i", "HOME=" + home_.path().string(), "XDG_RUNTIME_DIR=" + home_.path().string(),
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    argv.insert(argv.begin(), prefix.begin(), prefix.end());
    return berth_test::run_command(std::move(argv), {}, timeout_ms);
}

CommandResult RootlessTest::user_runtime(std::vector<std::string> args, int timeout_ms) const {
    args.insert(args.begin(), {runtime_path(), "--root", root().string()});
    return as_user(std::move(args), timeout_ms);
}

void RootlessTest::make_rootless_bundle(berth_test::Bundle& bundle, json args) const {
    hand_over(bundle.path(), user_);
    fs::remove(bundle.config_path()); // spec, like runc's, never overwrites one
    auto spec = as_user({"sh", "-c", "cd \"$0\" && exec \"$1\" spec --rootless",
                         bundle.path().string(), runtime_path()});
    ASSERT_EQ(spec.exit_code, 0) << spec;
    std::ifstream in(bundle.config_path());
    bundle.config() = json::parse(in);
    bundle.config()["process"]["terminal"] = false;
    bundle.config()["process"]["args"] = std::move(args);
    bundle.write_config();
}

} // namespace berth_it
