// The container command groups: run and the lifecycle (container_commands.cpp,
// run_flags.cpp), and the views ps, logs and inspect (container_view_commands.cpp).
#pragma once

#include "commands.h"
#include "run_option_flags.h"

#include "berth/engine/engine.h"

namespace berth::cli {

// Registers at the top level (`berth ps`) and under `berth container` (`berth container ls`).
void add_container_commands(CLI::App& app, GlobalOptions& global);
void add_container_view_commands(CLI::App& app, GlobalOptions& global);
void add_stats_commands(CLI::App& app, GlobalOptions& global); // stats, pause, unpause
void add_logs_command(CLI::App& app, GlobalOptions& global);
void add_commit_command(CLI::App& app, GlobalOptions& global);
// `berth volume create/ls/inspect/rm/prune` (volume_commands.cpp).
void add_volume_commands(CLI::App& app, GlobalOptions& global);
// Bytes of the regular files below `path` (a volume's data), as `system df`
// and the prunes count them (system_prune_command.cpp).
std::int64_t tree_size(const std::string& path);
// An image as `image inspect` (and `inspect`) shows it (image_commands.cpp).
nlohmann::json image_inspect_json(image::ImageStore& store, const image::Image& image);
// A volume as `volume inspect` (and `inspect`) shows it.
nlohmann::json volume_json(engine::Engine& engine, const engine::VolumeRecord& record);
// rename, top, container prune, version, info, system df (admin_commands.cpp).
void add_admin_commands(CLI::App& app, GlobalOptions& global);
// berth system prune (system_prune_command.cpp).
void define_system_prune(CLI::App* command, GlobalOptions& global);
// berth healthcheck run (healthcheck_command.cpp).
void add_healthcheck_commands(CLI::App& app, GlobalOptions& global);
// `berth network ...` and `berth port` (network_commands.cpp).
void add_network_commands(CLI::App& app, GlobalOptions& global);
// `inspect`'s NetworkSettings of a container: Docker's IPAddress, Ports, Networks.
nlohmann::json network_settings_json(const GlobalOptions& global, const std::string& id);
// `ps`'s PORTS of each container: "0.0.0.0:8080->80/tcp, ...".
std::vector<std::string> published_ports_text(const GlobalOptions& global,
                                              const std::vector<engine::ContainerRecord>& records);

// Shared by both groups:
engine::Engine open_engine(const GlobalOptions& global);
// `berth container`, created by whichever group registers first.
CLI::App& container_group(CLI::App& app);
// Ends the command with `code` once main() has unwound (nothing more is printed).
[[noreturn]] void exit_with(int code);
// Ends the process with `code` now, with its output flushed: for a command
// whose work is done and whose objects hold nothing to release (unwinding
// CLI11's command tree and our statics took ~0.5 ms of every `run`).
[[noreturn]] void exit_at_once(int code);

// The flags of `create` and `run`, into a request (run_flags.cpp).
struct RunFlags {
    engine::RunRequest request;
    std::vector<std::string> env;
    std::string entrypoint;
    CLI::Option* entrypoint_option = nullptr; // given, even as "", replaces the image's
    std::string memory;
    std::vector<std::string> security_options;
    std::vector<std::string> log_options; // "key=value"
    bool detach = false;
    std::vector<std::string> image_and_command; // what follows the flags
    OptionFlags options;                        // run_option_flags.h
    // --health-cmd, --health-interval, --health-timeout, --health-start-period (Go durations).
    std::string health_cmd, health_interval, health_timeout, health_start_period;
    int health_retries = 0;
    bool no_healthcheck = false;
    std::string pull = "missing"; // --pull always|missing|never
    std::string platform;         // --platform os/arch[/variant]
};
void add_run_flags(CLI::App& command, RunFlags& flags, bool is_run);
// Checks and completes the request (env from the host, security options...).
engine::RunRequest finish_request(RunFlags& flags);

} // namespace berth::cli
