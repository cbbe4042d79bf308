// The run/create flags for the request's ContainerOptions (mounts, volumes,
// ulimits, labels, --init, --restart...), kept apart from run_flags.cpp.
#pragma once

#include "berth/engine/run_request.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace berth::cli {

struct OptionFlags {
    std::vector<std::string> volumes, mounts, tmpfs, env_files, ulimits, labels, label_files;
    std::string memory_swap, restart = "no";
};

void add_option_flags(CLI::App& command, OptionFlags& flags, engine::RunRequest& request);
// Parses the flags into request.options, and --env-file's variables in
// front of request.env (so that -e wins, as in Docker).
void finish_option_flags(const OptionFlags& flags, engine::RunRequest& request);

// Docker's env-file format: KEY=value lines, KEY alone taken from our own
// environment (skipped if unset), blank lines and "#" comments skipped.
std::vector<std::string> parse_env_file(const std::string& text, const std::string& path);

} // namespace berth::cli
