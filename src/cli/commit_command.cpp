// berth commit (and container commit): a container's changes as an image.
#include "container_commands.h"

#include <iostream>

namespace berth::cli {

namespace {

void define_commit(CLI::App* command, GlobalOptions& global) {
    struct Options {
        std::string container;
        engine::CommitOptions commit;
    };
    auto options = std::make_shared<Options>();
    command->add_option("-a,--author", options->commit.author, "Author (\"Name <email>\")");
    command->add_option("-m,--message", options->commit.message, "Commit message");
    command
        ->add_option("-c,--change", options->commit.changes,
                     "Dockerfile instruction for the image (CMD, ENTRYPOINT, ENV, ...)")
        ->allow_extra_args(false);
    command->add_option("-p,--pause", options->commit.pause,
                        "Pause the container while its files are read (default true)");
    command->add_option("CONTAINER", options->container, "Container")->required();
    command->add_option("REPOSITORY[:TAG]", options->commit.name, "Name of the new image");
    command->callback([&global, options] {
        std::cout << open_engine(global).commit(options->container, options->commit) << "\n";
    });
}

} // namespace

void add_commit_command(CLI::App& app, GlobalOptions& global) {
    define_commit(app.add_subcommand("commit", "Make an image of a container's changes"), global);
    define_commit(
        container_group(app).add_subcommand("commit", "Make an image of a container's changes"),
        global);
}

} // namespace berth::cli
