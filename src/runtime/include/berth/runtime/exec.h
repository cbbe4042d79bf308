// Entering a running container: a new process in all of its namespaces,
// with its own user, capabilities and terminal, as `runc exec` does.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace berth::runtime {

struct ExecOptions {
    std::string id;
    // Either a whole process (`--process FILE`, JSON text)...
    std::string process_json;
    // ...or the container's own process with these changes.
    std::vector<std::string> args;
    std::vector<std::string> env; // added to, or replacing, the container's
    std::optional<std::string> cwd;
    std::optional<std::string> user; // "uid[:gid]"
    std::vector<unsigned> additional_gids;
    // The container's additional gids are replaced by these, not added to
    // (runc's --additional-gids adds; an engine's `exec -u` replaces).
    bool replace_additional_gids = false;
    std::vector<std::string> add_capabilities;
    bool no_new_privileges = false;
    bool tty = false;

    std::string console_socket;
    std::string pid_file;
    bool detach = false;
    int preserve_fds = 0;
    // runc's --cgroup: a sub-cgroup of the container's to put the process
    // in ("sub" for every hierarchy, or "controller:sub" for one on v1).
    std::vector<std::string> sub_cgroups;
};

} // namespace berth::runtime
