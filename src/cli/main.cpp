#include "berth/cli/main.h"

#include "commands.h"
#include "container_commands.h"

#include "berth/base/error.h"
#include "berth/base/user_namespace.h"
#include "berth/engine/container_store.h"
#include "berth/engine/rootless.h"
#include "berth/oci/reference.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

namespace berth::cli {

std::unique_ptr<image::ImageStore> open_store(const GlobalOptions& global) {
    image::StoreOptions options;
    options.root = global.root.empty() ? image::default_root() : global.root;
    options.apply.preserve_ownership = !rootless();
    options.images_in_use = [root = options.root] {
        image::Database database(root + "/berth.db");
        std::map<oci::Digest, std::string> in_use;
        for (const auto& [image_id, container] : engine::ContainerStore(database).image_users())
            in_use.emplace(oci::Digest::parse(image_id), container);
        return in_use;
    };
    return std::make_unique<image::ImageStore>(options);
}

std::string familiar(const std::string& stored_name) {
    try {
        auto [repository, tag] = oci::familiar_repository_and_tag(stored_name);
        return repository + ":" + tag;
    } catch (const Error&) {
        return stored_name;
    }
}

bool might_invoke(const GlobalOptions& global, std::initializer_list<std::string_view> path) {
    if (global.command_words.size() < path.size()) return false;
    auto word = global.command_words.begin();
    for (std::string_view name : path)
        if (*word++ != name) return false;
    return true;
}

// The first two words that are neither an option nor the value of --root,
// the only global option that takes one.
std::vector<std::string> command_words_of(int argc, char** argv) {
    std::vector<std::string> words;
    for (int i = 1; i < argc && words.size() < 2; ++i) {
        std::string_view argument = argv[i];
        if (argument == "--root")
            ++i;
        else if (!argument.starts_with("-"))
            words.emplace_back(argument);
    }
    return words;
}

// The words of the command that failed to parse ("container ls").
std::string parsed_command(CLI::App& app) {
    std::string words;
    for (CLI::App* current = &app; !current->get_subcommands().empty();) {
        current = current->get_subcommands().front();
        words += " " + current->get_name();
    }
    return words;
}

// Command-line mistakes as Docker reports them: one line and a pointer to
// --help, exit code 125 for a bad flag or value (1 for a missing argument
// or command, as docker's). Help, version and exit_with keep CLI11's way.
int usage_error(CLI::App& app, const CLI::ParseError& error,
                const std::vector<std::string>& command_words) {
    std::string name = error.get_name();
    if (name == "CallForHelp" || name == "CallForAllHelp" || name == "CallForVersion" ||
        name == "RuntimeError")
        return app.exit(error);
    std::string message = error.what();
    static const std::string extra_prefixes[] = {"The following argument was not expected: ",
                                                 "The following arguments were not expected: "};
    for (const auto& prefix : extra_prefixes)
        if (message.starts_with(prefix)) {
            // CLI11 lists them last first: name a flag among them if any.
            std::string extras = message.substr(prefix.size()) + " ", shown;
            for (std::size_t start = 0, space; (space = extras.find(' ', start)) != extras.npos;
                 start = space + 1) {
                std::string word = extras.substr(start, space - start);
                if (shown.empty() || (word.starts_with("-") && !shown.starts_with("-")))
                    shown = word;
            }
            message = (shown.starts_with("-") ? "unknown flag: " : "unexpected argument: ") + shown;
        }
    std::string command = parsed_command(app);
    if (message == "A subcommand is required" &&
        command_words.size() >
            static_cast<std::size_t>(std::count(command.begin(), command.end(), ' ')))
        message = "'" + command_words[std::count(command.begin(), command.end(), ' ')] +
                  "' is not a berth" + command + " command";
    std::fflush(stdout);
    std::cerr << "berth: " << message << "\nSee 'berth" << command << " --help'.\n";
    bool missing = name == "RequiredError" || name == "RequiresError";
    return missing ? 1 : 125;
}

// Whether argv asks for help or the version before its first command word:
// what it prints lists every command.
bool asks_before_command(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view argument = argv[i];
        if (argument == "--root")
            ++i;
        else if (!argument.starts_with("-"))
            return false;
        else if (argument == "-h" || argument == "--help" || argument == "-v" ||
                 argument == "--version")
            return true;
    }
    return false;
}

// Every command, the one invoked first: building CLI11's tree of all of them
// took ~1.3 ms of each command. Once a command that is no group (`run`,
// `ps`) is there under the first command word, the rest is left out; a
// group (`image`, `container`: they require a subcommand) or a word that names nothing
// (an error that lists the commands) gets them all, as do help and version.
void add_commands_for(CLI::App& app, GlobalOptions& global, int argc, char** argv) {
    CLI::App* image_group = app.add_subcommand("image", "Manage images");
    image_group->require_subcommand(1);
    using AddCommands = void (*)(CLI::App&, CLI::App&, GlobalOptions&);
    static constexpr AddCommands adders[] = {
        [](CLI::App& app, CLI::App&, GlobalOptions& global) {
            add_container_commands(app, global);
        },
        [](CLI::App& app, CLI::App&, GlobalOptions& global) {
            add_container_view_commands(app, global);
        },
        add_image_commands,
        add_archive_commands,
        [](CLI::App&, CLI::App& images, GlobalOptions& global) {
            add_mount_commands(images, global);
        },
        add_registry_commands,
        add_build_commands,
        [](CLI::App& app, CLI::App&, GlobalOptions& global) { add_stats_commands(app, global); },
        [](CLI::App& app, CLI::App&, GlobalOptions& global) { add_logs_command(app, global); },
        [](CLI::App& app, CLI::App&, GlobalOptions& global) { add_commit_command(app, global); },
        [](CLI::App& app, CLI::App&, GlobalOptions& global) { add_volume_commands(app, global); },
        [](CLI::App& app, CLI::App&, GlobalOptions& global) { add_admin_commands(app, global); },
        [](CLI::App& app, CLI::App&, GlobalOptions& global) { add_network_commands(app, global); },
    };
    bool all = global.command_words.empty() || asks_before_command(argc, argv);
    for (AddCommands add : adders) {
        add(app, *image_group, global);
        if (all) continue;
        for (CLI::App* command : app.get_subcommands(nullptr))
            if (command->check_name(global.command_words.front()) &&
                command->get_require_subcommand_min() == 0)
                return;
    }
}

int main(int argc, char** argv) {
    try {
        // Before anything else, while the process has one thread.
        engine::enter_rootless_namespace(argv);
    } catch (const Error& error) {
        std::cerr << "berth: rootless: " << error.what() << "\n";
        return 125;
    }
    CLI::App app{"berth: build, ship and run containers", "berth"};
    app.require_subcommand(1);
    app.fallthrough();
    app.set_version_flag("-v,--version", std::string("berth version ") + BERTH_VERSION);
    GlobalOptions global;
    global.command_words = command_words_of(argc, argv);
    app.add_option("--root", global.root, "Where images and containers are stored")
        ->envname("BERTH_ROOT")
        ->default_str("/var/lib/berth, rootless ~/.local/share/berth");

    add_commands_for(app, global, argc, argv);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return usage_error(app, error, global.command_words);
    } catch (const Error& error) {
        std::fflush(stdout);
        std::cerr << "berth: " << error.what() << "\n";
        return 1;
    } catch (const std::exception& error) {
        std::fflush(stdout);
        std::cerr << "berth: " << error.what() << "\n";
        return 1;
    }
    return 0;
}

} // namespace berth::cli
