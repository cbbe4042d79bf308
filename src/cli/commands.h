// What every command group shares: the global options and the store.
#pragma once

#include "berth/image/image_store.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace berth::cli {

struct GlobalOptions {
    std::string root;
};

std::unique_ptr<image::ImageStore> open_store(const GlobalOptions& global);

// Each adds its commands at the top level (`berth images`) and, where Docker
// has both, under `berth image` (`berth image ls`).
void add_image_commands(CLI::App& app, CLI::App& image_group, GlobalOptions& global);
void add_archive_commands(CLI::App& app, CLI::App& image_group, GlobalOptions& global);
void add_mount_commands(CLI::App& image_group, GlobalOptions& global);
void add_registry_commands(CLI::App& app, CLI::App& image_group, GlobalOptions& global);

// `berth run`/`create` of an image the store lacks: pulls it (progress on
// stderr), as docker does. False when the store has it (or it is no name).
bool pull_if_missing(const GlobalOptions& global, const std::string& image);
// run/create's --pull always|missing|never and --platform os/arch[/variant]:
// pulls as asked, or fails as Docker does (no such image; a local image of
// another platform with --pull never).
void prepare_image_for_run(const GlobalOptions& global, const std::string& image,
                           const std::string& pull, const std::string& platform);
void add_build_commands(CLI::App& app, CLI::App& image_group, GlobalOptions& global);

// "docker.io/library/busybox:latest" -> "busybox:latest".
std::string familiar(const std::string& stored_name);

} // namespace berth::cli
