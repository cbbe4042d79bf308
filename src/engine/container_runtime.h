// The OCI runtime a container runs under, chosen per container (`--runtime`)
// and kept in its record: berth's own runtime library, in-process (the
// default), or any runc-compatible runtime (crun, runc, a path) driven
// through its command line. Each keeps its state under a root of berth's
// own, so berth never sees (or touches) other tools' containers.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/engine/container_store.h"
#include "berth/oci/state.h"
#include "berth/runtime/exec.h"

#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace berth::engine {

// What the monitor brings to a create besides the bundle.
struct CreateHelp {
    // Runs (given the init's pid) while the init makes its mounts, where the
    // runtime allows (berth's: see runtime::CreateOptions), else just after
    // the create; its exception fails the create.
    std::function<void(pid_t)> while_init_mounts;
    // A new network namespace made ahead, which berth's runtime starts the
    // init in where config.json asks for a new one (other runtimes make their own).
    int network_namespace_fd = -1;
};

class ContainerRuntime {
  public:
    virtual ~ContainerRuntime() = default;

    // Creates the container of `bundle` with this process's stdio as its own
    // and leaves its init waiting for start. With `tty`, the pty's master.
    virtual UniqueFd create(const std::string& id, const std::string& bundle, bool tty,
                            const CreateHelp& help) = 0;
    virtual void start(const std::string& id) = 0;
    // create, then start, with nothing in between (the monitor's way):
    // berth's runtime lets the init go before it writes its state, so the
    // exec overlaps that write (~0.4 ms where the state is on disk).
    virtual UniqueFd create_and_start(const std::string& id, const std::string& bundle, bool tty,
                                      const CreateHelp& help) {
        UniqueFd console = create(id, bundle, tty, help);
        start(id);
        return console;
    }
    virtual oci::State state(const std::string& id) = 0;
    virtual void kill(const std::string& id, int signal) = 0;
    // Forced: killed first if it runs. Nothing to do if the runtime has no such container.
    virtual void remove(const std::string& id, bool force) = 0;
    virtual void pause(const std::string& id) = 0;
    virtual void resume(const std::string& id) = 0;
    // Another process in the running container, with this process's stdio;
    // its exit status.
    virtual int exec(const runtime::ExecOptions& options) = 0;
    virtual std::vector<pid_t> processes(const std::string& id) = 0;
    // runc's `events --stats` document.
    virtual std::string stats(const std::string& id) = 0;
};

// The name berth's own runtime has (and what an empty name means).
inline constexpr const char* default_runtime_name = "berth";

// `name` checked and made canonical: "" → $BERTH_RUNTIME, else "berth"; a
// name without "/" must be berth, or an executable found in $PATH; a path
// must be an executable file. Error "unknown or invalid runtime name: X".
std::string resolve_runtime_name(const std::string& name);

// The runtime of a container with the (resolved) name, under `run_root`.
std::unique_ptr<ContainerRuntime> open_container_runtime(const std::string& run_root,
                                                         const std::string& name);

// The runtime a container's record names (berth's for records without one).
std::unique_ptr<ContainerRuntime> runtime_of_container(const std::string& run_root,
                                                       const ContainerRecord& record);

} // namespace berth::engine
