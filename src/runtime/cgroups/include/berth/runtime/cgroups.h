// The cgroups of one container: where they live (config.json's
// linux.cgroupsPath), the limits in them (linux.resources), and what the
// runtime does to the processes inside (freeze, kill, stats, clean-up).
//
// One class over the three layouts a host can have: v1 (one hierarchy per
// controller), hybrid (v1 controllers plus a controller-less cgroup2 tree at
// "unified") and v2 (one cgroup2 tree).
#pragma once

#include "berth/base/unique_fd.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace berth::runtime::cgroups {

enum class Mode { v1, hybrid, v2 };

// By the filesystem at `cgroup_root` (statfs): cgroup2 is v2; otherwise a
// tmpfs of v1 hierarchies, hybrid when a cgroup2 is mounted at "unified".
Mode detect_mode(const std::string& cgroup_root = "/sys/fs/cgroup");
std::string_view mode_name(Mode mode); // "v1", "hybrid", "v2"

// What placing a container's cgroups depends on, read from the host once.
// Tests build one by hand to run the same logic against a fake tree.
struct Host {
    Mode mode = Mode::v2;
    std::string cgroup_root = "/sys/fs/cgroup";
    // The runtime's /proc/self/cgroup: relative cgroupsPaths start from there.
    std::string own_cgroups = "0::/\n";

    static Host detect(const std::string& cgroup_root = "/sys/fs/cgroup");
};

// Moving a process into a cgroup takes a kernel lock (cgroup_threadgroup_rwsem)
// whose first writer after a quiet spell waits for an RCU grace period, 5-15
// ms on a 2-core machine; writers that follow within a grace period of the
// last do not wait. A start moves its init (v1 and hybrid hosts always; v2
// uses CLONE_INTO_CGROUP instead). warm_up_moves makes moves that change
// nothing, this process into the cgroup it is already in, on a side thread,
// from early in the command until stop_warming_moves (the container's own
// move is done) or 250 ms: the wait runs beside the caller's work (~10 ms of
// it before the init exists) and the lock stays warm for the init's move.
// Once per process; nothing on a v2 host (nothing is moved there), and
// silent when there is nothing to write to. For a process
// that forks (fork(), not clone3) the one that moves: clone3_fork stops and
// joins the thread first (side_thread.h). The kernel's `favordynmods` mount
// option removes the wait for good; berth does not change the host's mounts.
void warm_up_moves(const std::string& cgroup_root = "/sys/fs/cgroup");
void stop_warming_moves();
// A `run`'s head start: the container's cgroup directories (a v1 host's ten
// mkdirs, ~1 ms), then the warm-up, both on the side thread, beside the
// caller's own work. In that order: the warm-up's first move holds the
// kernel's cgroup lock, which a mkdir needs, through its grace period.
// Errors are left to the runtime's create, which makes what is missing.
void make_cgroup_and_warm_up_moves(const std::string& cgroups_path, const std::string& id,
                                   const std::string& cgroup_root = "/sys/fs/cgroup");
// Until the directories are made (or given up on): before the monitor may
// make them too, or remove them.
void wait_for_early_cgroup();

// Where one hierarchy keeps the container: the hierarchy's mount point and
// the container's directory below it.
struct Placement {
    std::string mount;
    std::string directory;
};

class Cgroup {
  public:
    // `cgroups_path` is absolute ("/a/b", from each hierarchy's root),
    // relative ("a/b", below the runtime's own cgroup, as runc does) or empty
    // ("/berth/<id>"). systemd's "slice:prefix:name" is an error that names
    // --systemd-cgroup, which berth does not support yet.
    static Cgroup for_container(const std::string& cgroups_path, const std::string& id,
                                const std::string& cgroup_root = "/sys/fs/cgroup");
    static Cgroup for_container(const std::string& cgroups_path, const std::string& id,
                                const Host& host);

    // What to_json() wrote; state.json keeps it so that later commands find
    // the same directories whatever the host's mounts look like by then.
    static Cgroup from_json(const std::string& saved);
    std::string to_json() const;

    Mode mode() const { return mode_; }
    // Hierarchy → placement. Keys are controller names ("memory", "cpu"...),
    // "systemd" for the name=systemd hierarchy and "unified" for the cgroup2
    // tree (the only key on v2). Controllers that share a mount share a directory.
    const std::map<std::string, Placement>& placements() const { return placements_; }

    // mkdir -p in every hierarchy; idempotent. On v2, also enables in the
    // ancestors every controller the host offers, as far as it lets us.
    void create();
    // linux.resources, all validated before anything is written. Errors name
    // the field and the file: "linux.resources.memory.limit: writing ...".
    void apply_resources(const nlohmann::json& resources);
    // Moves `pid` into the container's cgroup in every hierarchy.
    void add_process(pid_t pid);
    // The container's v2 directory, for clone3's CLONE_INTO_CGROUP; an empty
    // UniqueFd unless the host is v2 (hybrid needs v1 moves anyway).
    UniqueFd v2_directory_fd() const;

    // Every process in the container's cgroup and below it.
    std::vector<pid_t> pids() const;
    // v1 freezer or v2 cgroup.freeze; returns once every process is frozen.
    void freeze();
    void thaw();
    bool frozen() const;
    // SIGKILL through cgroup.kill where the kernel has it; otherwise the
    // cgroup is frozen while each process is signalled, so none escapes by forking.
    void kill_all(int signal);

    // Usage figures in the shape of runc's `events --stats` "data".
    nlohmann::json stats() const;
    // How many processes the OOM killer has killed in the container.
    std::uint64_t oom_kill_count() const;

    // Kills what is left and removes the container's directories (and any
    // child cgroups) in every hierarchy. Ancestors such as "/berth" stay.
    void destroy();

  private:
    Cgroup() = default;

    // The directory of `hierarchy`, or "" when the host does not mount it.
    std::string directory(const std::string& hierarchy) const;
    // Each distinct directory once (controllers sharing a mount share one).
    std::vector<Placement> distinct_placements() const;
    // The directory whose cgroup.procs lists the container's processes.
    std::string process_directory() const;
    // The directory whose freezer serves freeze(): v1 freezer, else cgroup2.
    std::string freezer_directory(bool& is_v1) const;
    void apply_v1(const nlohmann::json& resources);
    void apply_v2(const nlohmann::json& resources);

    Mode mode_ = Mode::v2;
    std::map<std::string, Placement> placements_;
};

} // namespace berth::runtime::cgroups
