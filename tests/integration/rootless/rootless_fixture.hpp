// Rootless containers as a real unprivileged user: the test (root) picks a
// uid and gid no account uses, hands it the state directory and the bundle,
// and runs berth-runtime as that user through setpriv, with no capability
// and no supplementary group, as a login would. The user namespace of each
// container then maps only that one uid, the way `spec --rootless` writes it.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

#include "runtime_fixture.hpp"

namespace berth_it {

// A uid and a gid with no entry in /etc/passwd or /etc/group, so nothing on
// the host belongs to them but what the test hands over.
struct HostUser {
    uid_t uid;
    gid_t gid;
};
HostUser unused_host_user();

// `path` and everything below it (symlinks themselves, not their targets)
// now belongs to `user`.
void hand_over(const fs::path& path, const HostUser& user);

class RootlessTest : public RuntimeTest {
  protected:
    // Skips unless the test runs as root and unprivileged users may create
    // user namespaces here.
    void SetUp() override;

    const HostUser& user() const noexcept { return user_; }
    // The user's HOME, which is also its XDG_RUNTIME_DIR.
    const fs::path& home() const noexcept { return home_.path(); }

    // argv run as the user, with HOME and XDG_RUNTIME_DIR of its own.
    CommandResult as_user(std::vector<std::string> argv, int timeout_ms = 20000) const;
    // `berth-runtime --root <root> args...` as the user.
    CommandResult user_runtime(std::vector<std::string> args, int timeout_ms = 20000) const;

    // A bundle owned by the user, with the config.json that
    // `berth-runtime spec --rootless` wrote as the user, made to run
    // `args` without a terminal. Edit bundle.config() and write_config()
    // (the file stays readable to the user) for anything more.
    void make_rootless_bundle(berth_test::Bundle& bundle, json args) const;

  private:
    HostUser user_{};
    berth_test::TempDir home_{"berth-rootless-home"};
};

} // namespace berth_it
