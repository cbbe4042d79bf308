// What every command group shares: the global options and the store.
#pragma once

#include "berth/image/image_store.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace berth::cli {

struct GlobalOptions {
    std::string root;
    // The command line's first words that are no option (`container`, `run`),
    // known before any command is defined: see might_invoke.
    std::vector<std::string> command_words;
};

// Whether `path` (`{"run"}`, `{"container", "run"}`) is the command being
// invoked. Defining a command's options costs: `run` and `create` have about
// a hundred each, and each exists twice (`berth run`, `berth container
// run`). Every command's name is always defined, so that help lists it; its
// options only where it may run.
bool might_invoke(const GlobalOptions& global, std::initializer_list<std::string_view> path);
std::vector<std::string> command_words_of(int argc, char** argv);

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
// `build --pull`: pulls `image` again (its progress on stderr, none when quiet).
void pull_for_build(const GlobalOptions& global, const std::string& image, bool quiet);
// run/create's --pull always|missing|never and --platform os/arch[/variant]:
// pulls as asked, or fails as Docker does (no such image; a local image of
// another platform with --pull never).
void prepare_image_for_run(const GlobalOptions& global, const std::string& image,
                           const std::string& pull, const std::string& platform);
void add_build_commands(CLI::App& app, CLI::App& image_group, GlobalOptions& global);

// "docker.io/library/busybox:latest" -> "busybox:latest".
std::string familiar(const std::string& stored_name);

} // namespace berth::cli
