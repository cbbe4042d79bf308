// A runc-compatible OCI runtime (crun, runc, or any path) driven through its
// command line, as conmon does: `create --bundle` with this process's stdio
// (the container's), `--console-socket` for a terminal, then start, state,
// kill, delete, pause/resume, exec, ps and `events --stats`. The caller (the
// monitor) is a child subreaper, so the init that `create` leaves behind is
// reparented to it and its exit is seen as a child's.
#pragma once

#include "container_runtime.h"

#include <string>
#include <vector>

namespace berth::engine {

class OciRuntimeCli final : public ContainerRuntime {
  public:
    // `program`: a name found in $PATH or an absolute path; `state_root`: its --root.
    OciRuntimeCli(std::string program, std::string state_root);

    UniqueFd create(const std::string& id, const std::string& bundle, bool tty,
                    const CreateHelp& help) override;
    void start(const std::string& id) override;
    oci::State state(const std::string& id) override;
    void kill(const std::string& id, int signal) override;
    void remove(const std::string& id, bool force) override;
    void pause(const std::string& id) override;
    void resume(const std::string& id) override;
    int exec(const runtime::ExecOptions& options) override;
    std::vector<pid_t> processes(const std::string& id) override;
    std::string stats(const std::string& id) override;

  private:
    // The runtime with --root and `args`; its standard output. Throws with
    // its last line of error output when it fails.
    std::string run(const std::vector<std::string>& args, const std::string& what);
    std::vector<std::string> command(const std::vector<std::string>& args) const;
    // The runtime's error from its --log file (or `fallback`).
    std::string logged_error(const std::string& log_path, const std::string& fallback) const;

    std::string program_;
    std::string state_root_;
};

} // namespace berth::engine
