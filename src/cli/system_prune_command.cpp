// berth system prune [-a] [-f] [--volumes]: stopped containers, unused
// networks, dangling (with -a: unused) images and with them the build
// cache's step images, and with --volumes unused anonymous volumes; in
// Docker's words, with its "Total reclaimed space".
#include "container_commands.h"
#include "output.h"

#include "berth/engine/networks.h"

#include <filesystem>
#include <iostream>

namespace berth::cli {

std::int64_t tree_size(const std::string& path) {
    namespace fs = std::filesystem;
    std::int64_t total = 0;
    std::error_code error;
    for (auto it = fs::recursive_directory_iterator(
             path, fs::directory_options::skip_permission_denied, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error))
        if (it->is_regular_file(error) && !it->is_symlink(error))
            total += static_cast<std::int64_t>(it->file_size(error));
    return total;
}

namespace {

bool ask(const std::string& warning) {
    std::cout << warning << "\nAre you sure you want to continue? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

void print_section(const char* title, const std::vector<std::string>& lines) {
    if (lines.empty()) return;
    std::cout << title << ":\n";
    for (const auto& line : lines)
        std::cout << line << "\n";
    std::cout << "\n";
}

} // namespace

void define_system_prune(CLI::App* command, GlobalOptions& global) {
    struct Options {
        bool all = false, force = false, volumes = false;
    };
    auto options = std::make_shared<Options>();
    command->add_flag("-a,--all", options->all, "Remove all unused images, not just dangling ones");
    command->add_flag("-f,--force", options->force, "Do not prompt for confirmation");
    command->add_flag("--volumes", options->volumes, "Prune anonymous volumes");
    command->callback([&global, options] {
        std::string warning = "WARNING! This will remove:\n  - all stopped containers\n"
                              "  - all networks not used by at least one container\n";
        if (options->volumes)
            warning += "  - all anonymous volumes not used by at least one container\n";
        warning += options->all ? "  - all images without at least one container associated to "
                                  "them\n  - all build cache\n"
                                : "  - all dangling images\n  - unused build cache\n";
        if (!options->force && !ask(warning)) return;

        std::int64_t reclaimed = 0;
        auto engine = open_engine(global);
        std::uint64_t containers_freed = 0;
        print_section("Deleted Containers", engine.prune_containers(containers_freed));
        reclaimed += static_cast<std::int64_t>(containers_freed);

        engine::EngineOptions network_options;
        network_options.root = global.root;
        print_section("Deleted Networks", engine::Networks(network_options).prune());

        if (options->volumes) {
            std::map<std::string, std::int64_t> sizes;
            for (const auto& volume : engine.list_volumes())
                sizes[volume.name] = tree_size(engine.volume_mountpoint(volume.name));
            std::vector<std::string> removed = engine.prune_volumes(false);
            for (const auto& name : removed)
                reclaimed += sizes[name];
            print_section("Deleted Volumes", removed);
        }

        // Step images of builds have no names: dangling, so the cache goes with them.
        auto store = open_store(global);
        std::int64_t before = 0, after = 0;
        for (const auto& image : store->list())
            before += image.size;
        image::RemoveResult result = store->prune(options->all);
        for (const auto& image : store->list())
            after += image.size;
        std::vector<std::string> images;
        for (const auto& name : result.untagged)
            images.push_back("untagged: " + familiar(name));
        for (const auto& id : result.deleted)
            images.push_back("deleted: " + id.str());
        print_section("Deleted Images", images);
        reclaimed += before - after;
        std::cout << "Total reclaimed space: " << human_size(reclaimed) << "\n";
    });
}

} // namespace berth::cli
