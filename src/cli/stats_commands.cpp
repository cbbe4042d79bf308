// berth stats, pause and unpause (and container stats/pause/unpause).
#include "container_commands.h"
#include "output.h"

#include "berth/base/error.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>
#include <unistd.h>

namespace berth::cli {

namespace {

using nlohmann::json;

// Docker's stats sizes: binary units with four significant digits ("1.945MiB").
std::string binary_size(std::uint64_t bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024 && unit < 5) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.4g%s", value, units[unit]);
    return text;
}

std::string percent(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f%%", value);
    return text;
}

// A row as docker's --format sees it; CPU from the change since `before`.
// `reference`: the container as the command line named it (Docker's
// {{.Container}}), empty when none was named.
json stats_row(const engine::ContainerStats& now, const engine::ContainerStats* before,
               const std::string& reference, bool no_trunc) {
    double cpu = 0;
    if (before && now.running && now.sampled_at_ns > before->sampled_at_ns &&
        now.cpu_ns >= before->cpu_ns)
        cpu = 100.0 * static_cast<double>(now.cpu_ns - before->cpu_ns) /
              static_cast<double>(now.sampled_at_ns - before->sampled_at_ns);
    // A container that is not running shows zeros, as docker's (its "--"
    // is for a container whose figures could not be read).
    bool shown = now.running;
    auto pair = [](const std::string& a, const std::string& b) { return a + " / " + b; };
    auto zero_pair = [&](const char* zero) { return pair(zero, zero); };
    double memory = now.memory_limit ? 100.0 * static_cast<double>(now.memory_used) /
                                           static_cast<double>(now.memory_limit)
                                     : 0;
    return {
        {"ID", no_trunc ? now.id : now.id.substr(0, 12)},
        {"Container", !reference.empty() ? reference
                      : no_trunc         ? now.id
                                         : now.id.substr(0, 12)},
        {"Name", now.name},
        {"CPUPerc", percent(shown ? cpu : 0)},
        {"MemUsage", shown ? pair(binary_size(now.memory_used), binary_size(now.memory_limit))
                           : zero_pair("0B")},
        {"MemPerc", percent(shown ? memory : 0)},
        {"NetIO", shown ? pair(human_size(static_cast<std::int64_t>(now.network_received)),
                               human_size(static_cast<std::int64_t>(now.network_sent)))
                        : zero_pair("0B")},
        {"BlockIO", shown ? pair(human_size(static_cast<std::int64_t>(now.block_read)),
                                 human_size(static_cast<std::int64_t>(now.block_written)))
                          : zero_pair("0B")},
        {"PIDs", shown ? std::to_string(now.pids) : "0"},
    };
}

std::string render(const std::vector<json>& rows, const std::string& format) {
    if (!format.empty()) {
        return format_rows(Template(format), rows,
                           {{"ID", "CONTAINER ID"},
                            {"Container", "CONTAINER"},
                            {"CPUPerc", "CPU %"},
                            {"MemUsage", "MEM USAGE / LIMIT"},
                            {"MemPerc", "MEM %"},
                            {"NetIO", "NET I/O"},
                            {"BlockIO", "BLOCK I/O"}});
    }
    std::vector<std::vector<std::string>> cells = {{"CONTAINER ID", "NAME", "CPU %",
                                                    "MEM USAGE / LIMIT", "MEM %", "NET I/O",
                                                    "BLOCK I/O", "PIDS"}};
    for (const auto& row : rows)
        cells.push_back({row["ID"], row["Name"], row["CPUPerc"], row["MemUsage"], row["MemPerc"],
                         row["NetIO"], row["BlockIO"], row["PIDs"]});
    return table(cells);
}

struct StatsOptions {
    std::vector<std::string> containers;
    bool all = false, no_stream = false, no_trunc = false;
    std::string format;
};

void show_stats(const GlobalOptions& global, const StatsOptions& options) {
    auto engine = open_engine(global);
    auto targets = [&] {
        if (!options.containers.empty()) return options.containers;
        std::vector<std::string> ids;
        for (const auto& record : engine.list())
            if (options.all || record.state == engine::ContainerState::running)
                ids.push_back(record.id);
        return ids;
    };
    auto sample = [&](const std::vector<std::string>& ids) {
        std::map<std::string, engine::ContainerStats> samples;
        for (const auto& id : ids)
            samples[id] = engine.stats(id);
        return samples;
    };
    // Docker's interval; --no-stream waits one short one, for a CPU figure.
    const auto interval =
        options.no_stream ? std::chrono::milliseconds(250) : std::chrono::milliseconds(1000);
    bool terminal = ::isatty(STDOUT_FILENO);
    std::vector<std::string> ids = targets();
    auto previous = sample(ids);
    for (;;) {
        std::this_thread::sleep_for(interval);
        if (options.containers.empty()) ids = targets();
        auto current = sample(ids);
        std::vector<json> rows;
        for (const auto& id : ids) {
            auto before = previous.find(id);
            rows.push_back(stats_row(current[id],
                                     before == previous.end() ? nullptr : &before->second,
                                     options.containers.empty() ? "" : id, options.no_trunc));
        }
        // A live view redraws in place on a terminal, as docker's does.
        if (!options.no_stream && terminal) std::cout << "\033[2J\033[H";
        std::cout << render(rows, options.format) << std::flush;
        if (options.no_stream) return;
        previous = std::move(current);
    }
}

void define_stats(CLI::App* command, GlobalOptions& global) {
    auto options = std::make_shared<StatsOptions>();
    command->add_flag("-a,--all", options->all, "All containers (default: running ones)");
    command->add_flag("--no-stream", options->no_stream, "One sample, then exit");
    command->add_flag("--no-trunc", options->no_trunc, "Do not truncate IDs");
    command->add_option("--format", options->format,
                        "Go-template-like format: {{.Name}} {{.CPUPerc}} {{.MemUsage}} ...");
    command->add_option("CONTAINER", options->containers, "Containers (default: all running)");
    command->callback([&global, options] { show_stats(global, *options); });
}

void define_pause(CLI::App* command, GlobalOptions& global, bool pause) {
    auto references = std::make_shared<std::vector<std::string>>();
    command->add_option("CONTAINER", *references, "Containers")->required();
    command->callback([&global, references, pause] {
        auto engine = open_engine(global);
        int failures = 0;
        for (const auto& reference : *references) {
            try {
                pause ? engine.pause(reference) : engine.unpause(reference);
                std::cout << reference << "\n";
            } catch (const Error& error) {
                std::fflush(stdout);
                std::cerr << "berth: " << error.what() << "\n";
                ++failures;
            }
        }
        if (failures) exit_with(1);
    });
}

} // namespace

void add_stats_commands(CLI::App& app, GlobalOptions& global) {
    for (CLI::App* parent : {&app, &container_group(app)}) {
        define_stats(parent->add_subcommand("stats", "Show containers' use of CPU, memory, I/O"),
                     global);
        define_pause(parent->add_subcommand("pause", "Freeze every process of containers"), global,
                     true);
        define_pause(parent->add_subcommand("unpause", "Thaw paused containers"), global, false);
    }
}

} // namespace berth::cli
