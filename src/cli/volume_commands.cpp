// berth volume create, ls, inspect, rm, prune.
#include "container_commands.h"
#include "output.h"

#include "berth/base/error.h"

#include <algorithm>
#include <iostream>

namespace berth::cli {

namespace {

using nlohmann::json;

} // namespace

nlohmann::json volume_json(engine::Engine& engine, const engine::VolumeRecord& record) {
    // Docker's local driver gives the creation time to the second.
    std::string created = record.created;
    if (auto fraction = created.find('.'); fraction != std::string::npos)
        created = created.substr(0, fraction) + "Z";
    return {{"CreatedAt", created},
            {"Driver", "local"},
            {"Labels", record.labels.empty() ? json(nullptr) : json(record.labels)},
            {"Mountpoint", engine.volume_mountpoint(record.name)},
            {"Name", record.name},
            {"Options", json(nullptr)},
            {"Scope", "local"}};
}

namespace {

std::map<std::string, std::string> labels_of(const std::vector<std::string>& texts) {
    std::map<std::string, std::string> labels;
    for (const auto& text : texts) {
        auto [key, value] = engine::parse_label(text);
        labels[key] = value;
    }
    return labels;
}

bool confirmed(const std::string& warning) {
    std::cout << warning << "\nAre you sure you want to continue? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

void define_create(CLI::App* command, GlobalOptions& global) {
    auto name = std::make_shared<std::string>();
    auto driver = std::make_shared<std::string>("local");
    auto labels = std::make_shared<std::vector<std::string>>();
    command->add_option("-d,--driver", *driver, "Volume driver (only local)");
    command->add_option("--label", *labels, "Set a label (key=value)")->allow_extra_args(false);
    command->add_option("VOLUME", *name, "Name (default: a random one)");
    command->callback([&global, name, driver, labels] {
        if (*driver != "local")
            fail("volume driver \"" + *driver + "\" not found (berth has local)");
        auto engine = open_engine(global);
        std::cout << engine.create_volume(*name, labels_of(*labels)).name << "\n";
    });
}

// `volume ls --filter KEY=VALUE`, as Docker's: dangling=true|false,
// name= (a part of the name), label=KEY[=VALUE], driver=local. The same key
// twice matches either value; different keys must all match.
class VolumeFilter {
  public:
    explicit VolumeFilter(const std::vector<std::string>& filters) {
        for (const auto& filter : filters) {
            auto equals = filter.find('=');
            if (equals == std::string::npos)
                fail("bad format of filter (expected name=value): " + filter);
            std::string key = filter.substr(0, equals), value = filter.substr(equals + 1);
            if (key != "dangling" && key != "name" && key != "label" && key != "driver")
                fail("invalid filter '" + key + "'");
            if (key == "dangling" && value != "true" && value != "false" && value != "1" &&
                value != "0")
                fail("invalid filter 'dangling=" + value + "'");
            values_[key].push_back(value);
        }
    }

    bool matches(engine::Engine& engine, const engine::VolumeRecord& record) const {
        auto any = [&](const std::string& key, auto test) {
            auto found = values_.find(key);
            if (found == values_.end()) return true;
            return std::any_of(found->second.begin(), found->second.end(), test);
        };
        return any("name",
                   [&](const std::string& v) {
                       return record.name.find(v) != std::string::npos;
                   }) &&
               any("driver", [](const std::string& v) { return v == "local"; }) &&
               any("label",
                   [&](const std::string& v) {
                       auto equals = v.find('=');
                       auto label = record.labels.find(v.substr(0, equals));
                       return label != record.labels.end() &&
                              (equals == std::string::npos ||
                               label->second == v.substr(equals + 1));
                   }) &&
               any("dangling", [&](const std::string& v) {
                   bool dangling = v == "true" || v == "1";
                   return engine.volume_users(record.name).empty() == dangling;
               });
    }

  private:
    std::map<std::string, std::vector<std::string>> values_;
};

void define_list(CLI::App* command, GlobalOptions& global) {
    auto quiet = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>();
    auto filters = std::make_shared<std::vector<std::string>>();
    command->add_flag("-q,--quiet", *quiet, "Only show volume names");
    command->add_option("--format", *format, "Go-template-like format: {{.Name}} {{.Driver}} ...");
    command
        ->add_option("-f,--filter", *filters,
                     "Filter: dangling=true|false, name=, label=KEY[=VALUE], driver=local")
        ->allow_extra_args(false);
    command->callback([&global, quiet, format, filters] {
        VolumeFilter filter(*filters);
        auto engine = open_engine(global);
        std::vector<engine::VolumeRecord> volumes;
        for (auto& volume : engine.list_volumes())
            if (filter.matches(engine, volume)) volumes.push_back(std::move(volume));
        if (*quiet) {
            for (const auto& volume : volumes)
                std::cout << volume.name << "\n";
            return;
        }
        if (!format->empty()) {
            std::vector<json> rows, methods;
            for (const auto& volume : volumes) {
                json row = volume_json(engine, volume);
                // ls's rows: Docker's volume context, labels as "k=v,k=v".
                std::string labels;
                for (const auto& [key, value] : volume.labels)
                    labels += (labels.empty() ? "" : ",") + key + "=" + value;
                row["Labels"] = labels;
                row["Links"] = "N/A";
                row["Size"] = "N/A";
                rows.push_back(row);
                methods.push_back({{"Label", volume.labels}});
            }
            std::cout << format_rows(Template(*format), rows,
                                     {{"Name", "VOLUME NAME"}, {"Driver", "DRIVER"}}, methods);
            return;
        }
        std::vector<std::vector<std::string>> cells = {{"DRIVER", "VOLUME NAME"}};
        for (const auto& volume : volumes)
            cells.push_back({"local", volume.name});
        std::cout << table(cells);
    });
}

void define_inspect(CLI::App* command, GlobalOptions& global) {
    auto names = std::make_shared<std::vector<std::string>>();
    auto format = std::make_shared<std::string>();
    command->add_option("-f,--format", *format, "Go-template-like format, e.g. {{.Mountpoint}}");
    command->add_option("VOLUME", *names, "Volumes")->required();
    command->callback([&global, names, format] {
        auto engine = open_engine(global);
        json all = json::array();
        int failures = 0;
        for (const auto& name : *names) {
            try {
                all.push_back(volume_json(engine, engine.get_volume(name)));
            } catch (const Error& error) {
                std::cerr << "berth: " << error.what() << "\n";
                ++failures;
            }
        }
        print_inspected(all, *format);
        if (failures) exit_with(1);
    });
}

void define_remove(CLI::App* command, GlobalOptions& global) {
    auto names = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    command->add_flag("-f,--force", *force, "No error if the volume does not exist");
    command->add_option("VOLUME", *names, "Volumes")->required();
    command->callback([&global, names, force] {
        auto engine = open_engine(global);
        int failures = 0;
        for (const auto& name : *names) {
            try {
                if (*force) {
                    try {
                        engine.get_volume(name);
                    } catch (const Error&) {
                        continue;
                    }
                }
                engine.remove_volume(name);
                std::cout << name << "\n";
            } catch (const Error& error) {
                std::cerr << "berth: " << error.what() << "\n";
                ++failures;
            }
        }
        if (failures) exit_with(1);
    });
}

void define_prune(CLI::App* command, GlobalOptions& global) {
    auto all = std::make_shared<bool>(false);
    auto force = std::make_shared<bool>(false);
    command->add_flag("-a,--all", *all, "Named volumes too, not only anonymous ones");
    command->add_flag("-f,--force", *force, "Do not ask for confirmation");
    command->callback([&global, all, force] {
        if (!*force && !confirmed(*all ? "WARNING! This will remove all local volumes not used by "
                                         "at least one container."
                                       : "WARNING! This will remove anonymous local volumes not "
                                         "used by at least one container."))
            return;
        auto engine = open_engine(global);
        // Measured before: what the prune removes is gone after.
        std::map<std::string, std::int64_t> sizes;
        for (const auto& volume : engine.list_volumes())
            if (engine.volume_users(volume.name).empty())
                sizes[volume.name] = tree_size(engine.volume_mountpoint(volume.name));
        auto removed = engine.prune_volumes(*all);
        std::int64_t reclaimed = 0;
        if (!removed.empty()) {
            std::cout << "Deleted Volumes:\n";
            for (const auto& name : removed) {
                std::cout << name << "\n";
                reclaimed += sizes[name];
            }
            std::cout << "\n";
        }
        std::cout << "Total reclaimed space: " << human_size(reclaimed) << "\n";
    });
}

} // namespace

void add_volume_commands(CLI::App& app, GlobalOptions& global) {
    CLI::App* group = app.add_subcommand("volume", "Manage volumes");
    group->require_subcommand(1);
    define_create(group->add_subcommand("create", "Create a volume"), global);
    define_list(group->add_subcommand("ls", "List volumes")->alias("list"), global);
    define_inspect(group->add_subcommand("inspect", "Show volumes in detail"), global);
    define_remove(group->add_subcommand("rm", "Remove volumes")->alias("remove"), global);
    define_prune(group->add_subcommand("prune", "Remove unused volumes"), global);
}

} // namespace berth::cli
