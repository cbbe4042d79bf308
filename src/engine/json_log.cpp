#include "berth/engine/json_log.h"

#include "berth/base/files.h"

#include "berth/base/error.h"

#include <cctype>
#include <nlohmann/json.hpp>

namespace berth::engine {

LogRotation parse_log_options(const std::map<std::string, std::string>& options) {
    LogRotation rotation;
    for (const auto& [key, value] : options) {
        if (key == "max-size") {
            std::size_t used = 0;
            std::uint64_t number = 0;
            try {
                number = std::stoull(value, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            std::string unit = value.substr(used);
            static const std::map<std::string, std::uint64_t> units = {{"", 1},
                                                                       {"b", 1},
                                                                       {"k", 1000},
                                                                       {"kb", 1000},
                                                                       {"m", 1000 * 1000},
                                                                       {"mb", 1000 * 1000},
                                                                       {"g", 1000 * 1000 * 1000},
                                                                       {"gb", 1000 * 1000 * 1000}};
            for (char& c : unit)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            auto scale = units.find(unit);
            if (used == 0 || scale == units.end() || number == 0)
                fail("invalid --log-opt max-size=" + value + " (e.g. 10m, 512k, 1g)");
            rotation.max_size = number * scale->second;
        } else if (key == "max-file") {
            int files = 0;
            try {
                files = std::stoi(value);
            } catch (const std::exception&) {
            }
            if (files < 1) fail("invalid --log-opt max-file=" + value + ": a number from 1 up");
            rotation.max_files = static_cast<unsigned>(files);
        } else {
            fail("unknown log option " + key +
                 " for the json-file log driver (it has max-size "
                 "and max-file)");
        }
    }
    if (rotation.max_files > 1 && rotation.max_size == 0)
        fail("--log-opt max-file needs max-size as well");
    return rotation;
}

std::vector<std::string> log_files(const std::string& path) {
    std::vector<std::string> files;
    for (unsigned n = 1; path_exists(path + "." + std::to_string(n)); ++n)
        files.insert(files.begin(), path + "." + std::to_string(n));
    if (path_exists(path)) files.push_back(path);
    return files;
}

bool parse_log_line(std::string_view line, LogEntry& entry) {
    nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    if (!json.is_object() || !json.contains("log") || !json["log"].is_string()) return false;
    entry.text = json["log"].get<std::string>();
    entry.stream = json.value("stream", "stdout");
    entry.time = json.value("time", "");
    return true;
}

} // namespace berth::engine
