// Containers as the user sees them: create, start (through a monitor
// process per container), stop, kill, rm, wait, exec, and their state in
// berth.db. The command line is a thin layer over this.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/engine/container_store.h"
#include "berth/engine/healthcheck.h"
#include "berth/engine/oci_spec_builder.h"
#include "berth/engine/run_request.h"
#include "berth/engine/volume_store.h"
#include "berth/image/database.h"

#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace berth::engine {

class PendingMonitor; // monitor.h

// $BERTH_RUNROOT, else /run/berth; rootless, $XDG_RUNTIME_DIR/berth.
std::string default_run_root();

struct EngineOptions {
    std::string root;     // images, containers, berth.db
    std::string run_root; // runtime state (lost at reboot, as it should be)
};

// A container that could not start, with Docker's exit code for it: 125 for
// berth's own errors, 126 for a command that cannot run, 127 for one not found.
class StartError : public Error {
  public:
    StartError(const std::string& message, int exit_code) : Error(message), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

  private:
    int exit_code_;
};

// The exit code Docker gives a failed start (or exec) with this message.
int exit_code_for_start_failure(std::string_view message);

// One sample of a running container's use of the machine (`berth stats`).
struct ContainerStats {
    std::string id, name;
    bool running = false;
    std::uint64_t sampled_at_ns = 0;                 // a monotonic clock: for rates between samples
    std::uint64_t cpu_ns = 0;                        // CPU time used since it started
    std::uint64_t memory_used = 0, memory_limit = 0; // the limit is the host's memory if none
    std::uint64_t pids = 0;
    std::uint64_t block_read = 0, block_written = 0;
    std::uint64_t network_received = 0, network_sent = 0;
};

// `berth commit`'s choices.
struct CommitOptions {
    std::string name;                 // "repo[:tag]"; empty: a nameless image
    std::string author;               // -a
    std::string message;              // -m, the history entry's comment
    std::vector<std::string> changes; // -c: Dockerfile instructions (CMD, ENV...)
    bool pause = true;                // freeze a running container while its files are read
};

struct StreamOptions {
    bool forward_stdin = false; // -i: this process's standard input goes to the container
    // -t: the container has a terminal. This one (if stdin is one) goes raw,
    // its size follows, and Ctrl-P Ctrl-Q detaches.
    bool tty = false;
};

// The command line's end of a monitor's control socket.
class Attachment {
  public:
    Attachment() = default;
    explicit Attachment(UniqueFd socket) : socket_(std::move(socket)) {}

    // Blocks until the monitor reports the start; StartError if it failed.
    void wait_started();
    // Copies the container's output to fds 1 and 2, passes SIGINT, SIGTERM,
    // SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 on to it, and returns its exit
    // code; 0 when detached with Ctrl-P Ctrl-Q (the container runs on).
    int stream_until_exit(const StreamOptions& options = {});

  private:
    UniqueFd socket_;
};

struct ExecRequest {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string workdir;
    std::string user;
    bool tty = false;
    bool interactive = false;
    bool privileged = false;
    // `exec -d`: started, not waited for; its stdio is /dev/null.
    bool detach = false;
};

class Engine {
  public:
    explicit Engine(EngineOptions options);
    ~Engine();
    Engine(Engine&&) noexcept;
    Engine& operator=(Engine&&) noexcept;

    const EngineOptions& options() const { return options_; }
    std::string container_dir(const std::string& id) const;
    std::string log_path(const std::string& id) const;

    // Resolves the image, records the container (refusing a name in use with
    // NameConflict), mounts its rootfs and writes its bundle. All or nothing.
    ContainerRecord create(const RunRequest& request);
    // This command will start a container soon: its monitor is forked now
    // (before this process opens the database), to open its own connection
    // and make early work while we work (see PendingMonitor). The host's
    // cgroup-move lock gets ready (runtime::cgroups::warm_up_moves) once the
    // container's cgroup exists: in create, or else in start.
    void get_ready_to_start();
    // Starts the container's monitor, which creates and starts it. With
    // `attach`, the attachment streams its output until it exits.
    Attachment start(const std::string& reference, bool attach);
    // `berth attach`: the running container's stdio, through its monitor.
    Attachment attach(const std::string& reference);
    // Freezes (and thaws) every process of a running container.
    void pause(const std::string& reference);
    void unpause(const std::string& reference);
    ContainerStats stats(const std::string& reference);
    // The container's changes as a new image on top of its own; the image ID.
    std::string commit(const std::string& reference, const CommitOptions& options);
    // How the container was asked to be run (its -i and -t among the rest).
    RunRequest request(const std::string& reference);
    // The stop signal, then SIGKILL after `timeout_seconds` (-1: the container's, else 10).
    void stop(const std::string& reference, int timeout_seconds);
    void kill(const std::string& reference, int signal);
    // With `remove_volumes`, its anonymous volumes go too (`rm -v`).
    void remove(const std::string& reference, bool force, bool remove_volumes = false);
    // Blocks until the container is not running; its exit code.
    int wait(const std::string& reference);
    // Another process in the running container; its exit status.
    int exec(const std::string& reference, const ExecRequest& request);

    // Health checks (health_runner.cpp). One check run now in the running
    // container, its result recorded; the state after it.
    HealthState run_healthcheck(const std::string& reference);
    // The state of this run's checks; nullopt if the container has none.
    std::optional<HealthState> health(const ContainerRecord& record);

    // Both notice containers whose monitor died and record them as exited.
    ContainerRecord get(const std::string& reference);
    std::vector<ContainerRecord> list();

    // rename, top, container prune (container_admin.cpp).
    void rename(const std::string& reference, const std::string& new_name);
    // The host pids of the container's processes (from its cgroup).
    std::vector<pid_t> processes(const std::string& reference);
    // Removes every container that is not running; their ids and the bytes freed.
    // `wanted`, when given, narrows the stopped containers pruned (prune --filter).
    std::vector<std::string>
    prune_containers(std::uint64_t& bytes_freed,
                     const std::function<bool(const ContainerRecord&)>& wanted = {});
    // The bytes a container's own files take (upper layer, logs, bundle).
    std::uint64_t container_size(const std::string& id) const;

    // `cp` (container_copy.cpp). Container paths are resolved inside its root
    // (its mount namespace while it runs, so volumes are seen) by openat2
    // RESOLVE_IN_ROOT, and every level below with O_NOFOLLOW: no symlink in
    // the container, however it changes meanwhile, leads to a host file.
    void copy_from_container(const std::string& reference, const std::string& container_path,
                             const std::string& host_path);
    void copy_to_container(const std::string& host_path, const std::string& reference,
                           const std::string& container_path);
    // `cp CONTAINER:PATH -` and `cp - CONTAINER:DIR`: a tar on `fd`, as Docker's.
    void copy_from_container_as_tar(const std::string& reference, const std::string& container_path,
                                    int fd);
    void copy_tar_into_container(int fd, const std::string& reference,
                                 const std::string& container_path);

    // `export` (container_export.cpp): the container's filesystem (the image
    // and its changes, no volumes) as a tar on `fd`.
    void export_filesystem(const std::string& reference, int fd);
    // `diff`: what the container changed, sorted by path: 'A'dded, 'C'hanged, 'D'eleted.
    std::vector<std::pair<char, std::string>> diff(const std::string& reference);

    // Volumes (volumes.cpp). A name "" makes an anonymous volume's random one.
    VolumeRecord create_volume(const std::string& name,
                               const std::map<std::string, std::string>& labels);
    VolumeRecord get_volume(const std::string& name);
    std::vector<VolumeRecord> list_volumes();
    std::string volume_mountpoint(const std::string& name) const;
    // The ids of the containers whose mounts name the volume.
    std::vector<std::string> volume_users(const std::string& name);
    // Refused while a container uses it, unless `force` (then only if none runs).
    void remove_volume(const std::string& name);
    // Unused volumes (anonymous ones only, unless `all`); their names.
    std::vector<std::string> prune_volumes(bool all);

  private:
    ContainerStore& containers();
    VolumeStore& volumes();
    // create's work, under the id chosen (and given to the monitor) first.
    ContainerRecord create_as(const std::string& id, RunRequest request);
    // Before the record is written: names anonymous volumes, checks sources.
    void resolve_mounts(RunRequest& request);
    // With the rootfs mounted: creates volumes (filled from the image) and
    // missing -v bind sources; the OCI mounts. `created` lists new volumes.
    nlohmann::json setup_mounts(const RunRequest& request, const std::string& rootfs,
                                std::vector<std::string>& created);
    void discard_volumes(const std::vector<std::string>& names);
    // setup_mounts, --group-add and --init into `inputs` (create_options.cpp).
    void prepare_options(const RunRequest& request, const std::string& rootfs, SpecInputs& inputs,
                         std::vector<std::string>& created_volumes);
    void close_database();
    // A running container whose monitor is gone becomes exited (and goes
    // with --rm); nullopt if it was removed.
    std::optional<ContainerRecord> reconcile(ContainerRecord record);
    // Until the monitor has exited, at most `timeout_ms` (-1: forever). True if it has.
    bool wait_for_monitor(const ContainerRecord& record, int timeout_ms);
    std::string runtime_root() const;
    std::string attach_socket(const std::string& id) const;
    // Sets record.paused from the runtime's state of a running container.
    // `if_hinted`: only if `pause` left its hint (ps: reading every running
    // container's runtime state would cost ~0.5 ms each).
    void note_paused(ContainerRecord& record, bool if_hinted = false);

    EngineOptions options_;
    std::unique_ptr<image::Database> database_;
    std::unique_ptr<ContainerStore> containers_;
    std::unique_ptr<VolumeStore> volumes_;
    std::unique_ptr<PendingMonitor> pending_monitor_; // from get_ready_to_start
};

// The anonymous volumes a container's request names, removed (for `rm -v`
// and `--rm`) unless another container uses them too. Errors are ignored.
void remove_anonymous_volumes(image::Database& database, const std::string& root,
                              const RunRequest& request);

} // namespace berth::engine
