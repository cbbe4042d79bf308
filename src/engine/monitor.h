// A container's monitor: a small process of its own per running container.
// It is forked (then setsid and forked again, so the command that started
// it can exit) and becomes a child subreaper, so the container's init is
// its child whatever the host's PID 1 does. Through the runtime library,
// in-process, it creates and starts the container with stdio on its pipes,
// then execs the small berth-monitor for the wait (log, attached command,
// reaping); berth-monitor execs berth's exit command when the init exits,
// which records the exit code in berth.db, releases the container (and
// with --rm removes it) or restarts it. See monitor_handoff.h.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/engine/json_log.h"

#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace berth::image {
class Database;
}

namespace berth::engine {

struct MonitorPlan {
    std::string id;
    std::string container_dir; // the bundle: config.json, rootfs, log
    std::string runtime_root;
    std::string runtime; // the OCI runtime's name (container_runtime.h)
    std::string database_path;
    std::string root; // the engine's: volumes are under it
    bool auto_remove = false;
    bool attach = false;      // stream output to the control socket until the exit
    bool interactive = false; // the container's stdin comes from attached commands
    bool tty = false;         // the container has a terminal; the monitor holds its master
    // Where `berth attach` finds the monitor (a SOCK_SEQPACKET listener).
    std::string attach_socket;
    bool keep_log = true; // the json-file log ("--log-driver none": no log)
    LogRotation log_rotation;
};

// The plan as words (also the exit command's arguments), and back.
std::vector<std::string> encode_monitor_plan(const MonitorPlan& plan);
MonitorPlan decode_monitor_plan(const std::vector<std::string>& words);

// The monitor's first stage, in the forked process that is the monitor:
// `database` is its own connection to plan.database_path, if it opened one
// already. Returns the process's exit code.
// `network_namespace`: one made ahead for the container (see EarlyWork).
int run_monitor(const MonitorPlan& plan, int control, std::unique_ptr<image::Database> database,
                UniqueFd network_namespace);

// What is made for a container of berth's runtime, run as root, while the
// starter writes the bundle (the monitor removes it if no plan follows).
struct EarlyWork {
    // The container's cgroup directories (on a v1 host, ~1 ms of mkdirs),
    // made by the starter itself, before it warms up cgroup moves; the
    // runtime's create finds them and applies the limits.
    std::string cgroups_path, id;
    // A new network namespace, loopback up, which the init starts in
    // (~0.5 ms of its clone): for config.json's new network namespace.
    bool network_namespace = false;
};

// A monitor forked before it is needed (pending_monitor.cpp): the fork, and
// the monitor's own open of the database, overlap the starter's work on
// the image, the rootfs and config.json. The starter must hold no SQLite
// connection when it forks: a process forked with one open must never
// touch the database file.
class PendingMonitor {
  public:
    explicit PendingMonitor(const std::string& database_path);
    PendingMonitor(const PendingMonitor&) = delete;
    PendingMonitor& operator=(const PendingMonitor&) = delete;
    // Unless started, the monitor removes what it made early and leaves:
    // waits for that.
    ~PendingMonitor();

    // Asks for the early work (once; later calls do nothing); what was
    // made goes if no plan follows. The monitor opens its database after
    // this (empty work: at once), so that the work starts first.
    void prepare(const EarlyWork& work);
    // Hands the monitor its plan; returns the starter's end of its control
    // socket (see attach_protocol.h).
    UniqueFd start(const MonitorPlan& plan);

  private:
    void reap_forker();

    UniqueFd control_;
    pid_t forker_ = -1; // the first child, which forks the monitor and exits
    bool prepared_ = false;
};

// A PendingMonitor started at once.
UniqueFd spawn_monitor(const MonitorPlan& plan);

} // namespace berth::engine
