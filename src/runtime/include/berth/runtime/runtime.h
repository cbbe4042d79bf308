// berth's OCI runtime as a library: the lifecycle operations of the OCI
// runtime specification over containers whose state lives under one root.
// berth-runtime's command line and berth's monitor both drive this.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/oci/state.h"
#include "berth/runtime/exec.h"

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace berth::runtime {

struct CreateOptions {
    std::string id;
    std::string bundle = ".";
    std::string pid_file;
    std::string console_socket;
    bool no_pivot = false;
    bool no_new_keyring = false;
    int preserve_fds = 0;
    // The caller's work while the init makes its mounts, given the init's
    // pid; done before the init writes sysctls or runs prestart hooks (berth
    // wires the container's network here, as Docker's does before runc's
    // sysctls). An exception fails the create.
    std::function<void(pid_t)> while_init_mounts;
    // A new, empty network namespace the caller made ahead (in-process
    // callers: berth's monitor): where config.json asks for a new network
    // namespace, the init starts in this one instead (~0.5 ms less clone).
    int network_namespace_fd = -1;
    // The caller starts the container right after create (see
    // create_and_start): the init is let go before the state is written, so
    // its exec overlaps that write. Not with poststart hooks, which start runs.
    bool start_at_once = false;
};

class Runtime {
  public:
    explicit Runtime(std::string state_root);

    // Sets the container up and leaves its init waiting for start.
    void create(const CreateOptions& options);
    // create for a caller in this process that holds the terminal itself:
    // with process.terminal, returns the pty's master (else an empty fd).
    UniqueFd create_keeping_console(const CreateOptions& options);
    // Lets a created container's process run; fails unless it is created.
    void start(const std::string& id);
    // create, then start, for a caller that does nothing in between (no
    // one can see the container "created"); returns the console as
    // create_keeping_console does when `keep_console`.
    UniqueFd create_and_start(CreateOptions options, bool keep_console);
    oci::State state(const std::string& id);
    std::vector<oci::State> list();
    // Fails with "container not running" unless created or running.
    void kill(const std::string& id, int signal, bool all);
    // Fails for a container that is not stopped, unless forced (SIGKILL first).
    void remove(const std::string& id, bool force);
    // create + start; unless detached, forwards signals (and the terminal),
    // waits, deletes, and returns the exit status as a shell shows it.
    int run(const CreateOptions& options, bool detach);
    // Runs another process in a created or running container; unless
    // detached, waits and returns its exit status.
    int exec(const ExecOptions& options);

    // Through the container's cgroup (an error names the missing cgroup):
    std::vector<pid_t> processes(const std::string& id);
    void pause(const std::string& id);
    void resume(const std::string& id);
    // Applies linux.resources-shaped JSON on top of what the container has.
    void update(const std::string& id, const std::string& resources_json);
    // runc's `events --stats` document: {"type":"stats","id":...,"data":{...}}.
    std::string stats(const std::string& id);
    // Prints stats every `interval_ms` and an {"type":"oom"} event when the
    // OOM killer strikes, until the container stops.
    void watch_events(const std::string& id, int interval_ms, void (*print)(const std::string&));

  private:
    std::string root_;
};

// Every capability name berth knows, CAP_CHOWN first, in the kernel's order.
const std::vector<std::string>& known_capability_names();

// The signal for a name ("KILL", "SIGKILL") or a number ("9"); throws if unknown.
int parse_signal(const std::string& text);

// Re-executes this program from a read-only detached bind mount of its own
// binary, so a container that reaches /proc/PID/exe of a runtime process
// cannot write the host's binary (CVE-2019-5736). Returns if already done or
// impossible (then the binary's permissions are the remaining guard).
void reexec_from_read_only_binary(char** argv);

} // namespace berth::runtime
