// Containers' state under --root: one directory per container holding its
// record (state.json), a copy of its config (config.json), and its exec fifo. The
// directory's flock serialises every command on that container.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/oci/state.h"

#include <string>
#include <vector>

namespace berth::runtime {

// What the runtime remembers about a container between commands.
struct ContainerRecord {
    oci::State state;                      // status as last written
    unsigned long long pid_start_time = 0; // tells the init from a recycled pid
    pid_t creator_pid = 0;                 // the `create` still setting it up
    unsigned long long creator_start_time = 0;
    // Whether its config has poststart (poststop) hooks: start (delete)
    // reads the config (ContainerDir::read_config) only then.
    bool poststart_hooks = false;
    bool poststop_hooks = false;
    // The container's cgroups (cgroups::Cgroup::to_json), "" when it has none.
    std::string cgroup_json;
};

class ContainerDir {
  public:
    ContainerDir(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    const std::string& path() const { return path_; }
    int fd() const { return fd_.get(); }
    std::string file(const char* name) const { return path_ + "/" + name; }

    ContainerRecord read_record() const;
    void write_record(const ContainerRecord& record) const;
    // The config.json the container was created from: exec and delete
    // (poststop hooks) need it even if the bundle has changed or gone since.
    // Written once, apart from the record, which is rewritten several times.
    void write_config(const std::string& text) const;
    std::string read_config() const;
    // The status now: a recorded "running" whose init has died is "stopped".
    oci::Status current_status(const ContainerRecord& record) const;
    // Lets a created container's init exec: a byte into exec.fifo, which
    // then goes (its absence is what reads as "running").
    void release_init(const std::string& id) const;
    void remove();

  private:
    std::string path_;
    UniqueFd fd_; // holds the lock
};

class StateStore {
  public:
    explicit StateStore(std::string root);
    const std::string& root() const { return root_; }

    // Creates the container's directory, locked; fails if the id is taken.
    ContainerDir create(const std::string& id);
    // Opens and locks an existing container's directory.
    ContainerDir open(const std::string& id);
    // Opens it without the lock, for reading only: records are replaced
    // whole by rename, so a reader never sees half of one, and a hook that
    // asks for the state while `create` holds the lock does not deadlock.
    ContainerDir open_for_reading(const std::string& id);
    std::vector<std::string> ids() const;
    bool exists(const std::string& id) const;

  private:
    std::string root_;
};

// Compiled seccomp programs live beside the containers under this name.
inline constexpr const char* seccomp_cache_name = ".seccomp-cache";

// runc's rule: letters, digits, '_', '+', '-', '.'; not "." or "..", and
// (berth's own) not starting with '.', which names the runtime's own files.
void validate_container_id(const std::string& id);

// Whether `pid` is alive, not a zombie, and started at `start_time`
// (field 22 of /proc/PID/stat). 0 for start_time skips that check.
bool process_is_alive(pid_t pid, unsigned long long start_time);
unsigned long long process_start_time(pid_t pid);

} // namespace berth::runtime
