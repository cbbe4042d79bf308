// seccomp for containers: the OCI `linux.seccomp` object compiled into a BPF
// program when the container is created, and loaded just before exec.
//
// The two halves are apart on purpose. Everything that can be wrong with a
// profile (an unknown action, a bad argument index, a flag this kernel lacks,
// a program longer than the kernel accepts) is found by compile(), so that
// `create` reports it; load() is a single seccomp(2) call over memory already
// prepared, so the container's init does no parsing and no allocation on its
// way to exec.
#pragma once

#include "berth/base/unique_fd.h"

#include <linux/filter.h>
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace berth::runtime::seccomp {

class Filter {
  public:
    // Compiles linux.seccomp (the raw JSON object of config.json). Throws
    // berth::Error naming the field: `linux.seccomp.syscalls[3].action: unknown
    // action "SCMP_ACT_BOGUS"`. Syscall names this build's libseccomp does not
    // know are skipped (as runc does) and listed by skipped_syscalls().
    static Filter compile(const nlohmann::json& seccomp);
    // The same, keeping compiled programs in `cache_directory` (created 0700;
    // used only while owned by this user and writable by no one else): a
    // profile seen before is read back instead of compiled, which saves the
    // milliseconds libseccomp takes over a long allow-list. Errors in the
    // profile are still found, every time.
    static Filter compile(const nlohmann::json& seccomp, const std::string& cache_directory);

    // True when a rule uses SCMP_ACT_NOTIFY: load() then returns a listener fd
    // to hand to listener_path() with send_notify_fd().
    bool wants_notify() const { return wants_notify_; }
    const std::string& listener_path() const { return listener_path_; }
    const std::string& listener_metadata() const { return listener_metadata_; }

    // Loads the filter into the calling thread (or every thread, with
    // SECCOMP_FILTER_FLAG_TSYNC). The caller has set no_new_privs, or holds
    // CAP_SYS_ADMIN. Returns the notify fd (close-on-exec) when wants_notify(),
    // else -1. Does not allocate unless it throws.
    int load() const;

    // What was compiled, for diagnostics and tests.
    const std::vector<std::string>& skipped_syscalls() const { return skipped_syscalls_; }
    std::size_t instruction_count() const { return program_.size(); }
    unsigned int seccomp_flags() const { return flags_; }

  private:
    Filter() = default; // only compile() makes one

    std::vector<sock_filter> program_;
    unsigned int flags_ = 0; // SECCOMP_FILTER_FLAG_*, given to seccomp(2) as is
    bool wants_notify_ = false;
    std::string listener_path_;
    std::string listener_metadata_;
    std::vector<std::string> skipped_syscalls_;
};

// Sends a notify fd to the seccomp agent listening at `listener_path` (an
// AF_UNIX SOCK_STREAM socket) as the runtime spec's "container process state":
// one connection, SCM_RIGHTS carrying the fd, and the JSON payload
//   {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}
// where `state_json` is the container's state (its "pid" and "ociVersion" are
// used) and `metadata` is listenerMetadata ("metadata" is left out when empty).
void send_notify_fd(const std::string& listener_path, int notify_fd, const std::string& state_json,
                    const std::string& metadata);
// The same in two steps, for a process that must connect while the agent's
// path is still visible (before pivot_root) and send after loading the filter.
UniqueFd connect_listener(const std::string& listener_path);
void send_notify_fd(int listener_socket, int notify_fd, const std::string& state_json,
                    const std::string& metadata);

// The "linux.seccomp" object of `berth-runtime features` (runtime-spec
// features.md): enabled, actions, operators, archs, knownFlags, and the
// supportedFlags this kernel accepts.
nlohmann::json features();

} // namespace berth::runtime::seccomp
