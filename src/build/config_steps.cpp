// The instructions that change only the image's config.
#include "build_steps.h"

#include "berth/base/error.h"
#include "berth/engine/healthcheck.h"

#include <algorithm>
#include <cctype>

namespace berth::build::detail {

namespace {

// "KEY=value KEY2=value2", or the old "KEY value with spaces"; every value
// expanded against the variables as they were before the instruction.
std::vector<std::pair<std::string, std::string>>
key_values(const Instruction& instruction, const VariableLookup& lookup, char escape) {
    const std::string& text = instruction.arguments;
    std::vector<std::pair<std::string, std::string>> pairs;
    auto first_blank = text.find_first_of(" \t");
    auto first_equals = text.find('=');
    if (first_equals == std::string::npos || first_equals > first_blank) {
        if (first_blank == std::string::npos)
            fail(instruction.keyword + " needs a name and a value");
        std::string value(text.substr(first_blank));
        value.erase(0, value.find_first_not_of(" \t"));
        pairs.emplace_back(text.substr(0, first_blank), expand_word(value, lookup, escape));
        return pairs;
    }
    for (const auto& word : split_quoted_words(text, escape)) {
        std::string expanded = expand_word(word, lookup, escape);
        auto equals = expanded.find('=');
        if (equals == std::string::npos || equals == 0)
            fail(instruction.keyword + ": \"" + word + "\" is not NAME=value");
        pairs.emplace_back(expanded.substr(0, equals), expanded.substr(equals + 1));
    }
    return pairs;
}

void add_unique(std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

std::vector<std::string> command_of(const Instruction& instruction,
                                    const oci::ContainerConfig& config) {
    if (instruction.json_form) return instruction.json_arguments;
    std::vector<std::string> args = shell_of(config);
    args.push_back(instruction.arguments);
    return args;
}

std::string clean_absolute(const std::string& path) {
    std::vector<std::string> kept;
    std::string part;
    for (std::size_t i = 0; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/') {
            if (part == "..") {
                if (!kept.empty()) kept.pop_back();
            } else if (!part.empty() && part != ".") {
                kept.push_back(part);
            }
            part.clear();
        } else {
            part += path[i];
        }
    }
    std::string out;
    for (const auto& p : kept)
        out += "/" + p;
    return out.empty() ? "/" : out;
}

} // namespace

std::optional<std::string> env_value(const std::vector<std::string>& env, const std::string& name) {
    for (auto it = env.rbegin(); it != env.rend(); ++it)
        if (it->size() > name.size() && it->compare(0, name.size(), name) == 0 &&
            (*it)[name.size()] == '=')
            return it->substr(name.size() + 1);
    return std::nullopt;
}

void set_env(std::vector<std::string>& env, const std::string& name, const std::string& value) {
    std::string entry = name + "=" + value;
    for (auto& existing : env)
        if (existing.size() > name.size() && existing.compare(0, name.size(), name) == 0 &&
            existing[name.size()] == '=') {
            existing = entry;
            return;
        }
    env.push_back(entry);
}

std::vector<std::string> shell_of(const oci::ContainerConfig& config) {
    if (!config.shell.empty()) return config.shell;
    return {"/bin/sh", "-c"};
}

void apply_config_instruction(StageState& state, const Instruction& instruction,
                              const VariableLookup& lookup, char escape) {
    oci::ContainerConfig& config = state.config.config;
    const std::string& keyword = instruction.keyword;
    auto one_word = [&] { return expand_word(instruction.arguments, lookup, escape); };
    if (instruction.arguments.empty() && keyword != "CMD" && keyword != "ENTRYPOINT")
        fail(keyword + " needs an argument");

    if (keyword == "ENV") {
        for (auto& [name, value] : key_values(instruction, lookup, escape))
            set_env(config.env, name, value);
    } else if (keyword == "LABEL") {
        for (auto& [name, value] : key_values(instruction, lookup, escape))
            config.labels[name] = value;
    } else if (keyword == "MAINTAINER") {
        state.config.author = one_word();
    } else if (keyword == "WORKDIR") {
        std::string dir = one_word();
        if (dir.front() != '/')
            dir = (config.working_dir.empty() ? std::string("/") : config.working_dir) + "/" + dir;
        config.working_dir = clean_absolute(dir);
    } else if (keyword == "USER") {
        config.user = one_word();
    } else if (keyword == "EXPOSE") {
        for (auto port : expand_words(instruction.arguments, lookup, escape)) {
            if (port.find('/') == std::string::npos) port += "/tcp";
            std::transform(port.begin(), port.end(), port.begin(), ::tolower);
            add_unique(config.exposed_ports, port);
        }
    } else if (keyword == "VOLUME") {
        auto volumes = instruction.json_form ? instruction.json_arguments
                                             : expand_words(instruction.arguments, lookup, escape);
        for (const auto& volume : volumes) {
            if (volume.empty()) fail("VOLUME: a volume path cannot be empty");
            add_unique(config.volumes, volume);
        }
    } else if (keyword == "STOPSIGNAL") {
        config.stop_signal = one_word();
    } else if (keyword == "CMD") {
        config.cmd = command_of(instruction, config);
        state.cmd_set = true;
    } else if (keyword == "ENTRYPOINT") {
        config.entrypoint = command_of(instruction, config);
        // As Docker: a new ENTRYPOINT drops the base image's CMD.
        if (!state.cmd_set) config.cmd.clear();
    } else if (keyword == "SHELL") {
        if (!instruction.json_form || instruction.json_arguments.empty())
            fail("SHELL needs the JSON form: SHELL [\"executable\", \"parameters\"]");
        config.shell = instruction.json_arguments;
    } else if (keyword == "HEALTHCHECK") {
        std::string first =
            instruction.arguments.substr(0, instruction.arguments.find_first_of(" \t"));
        std::transform(first.begin(), first.end(), first.begin(), ::toupper);
        oci::Healthcheck check;
        if (first == "NONE") {
            if (!instruction.flags.empty()) fail("HEALTHCHECK NONE takes no flags");
            check.test = {"NONE"};
        } else if (first == "CMD") {
            std::string rest = instruction.arguments.substr(3);
            rest.erase(0, rest.find_first_not_of(" \t"));
            if (rest.empty()) fail("HEALTHCHECK CMD needs a command");
            Instruction command = parse_instruction("CMD " + rest, instruction.line, escape);
            if (command.json_form) {
                check.test = {"CMD"};
                check.test.insert(check.test.end(), command.json_arguments.begin(),
                                  command.json_arguments.end());
            } else {
                check.test = {"CMD-SHELL", rest};
            }
            for (const auto& flag : instruction.flags) {
                std::string value = expand_word(flag.value.value_or(""), lookup, escape);
                if (flag.name == "retries") {
                    try {
                        check.retries = std::stoi(value);
                    } catch (const std::exception&) {
                        fail("--retries=" + value + ": not a number");
                    }
                    if (check.retries < 0) fail("--retries cannot be negative");
                } else {
                    std::int64_t duration = engine::parse_go_duration(value, "--" + flag.name);
                    if (flag.name == "interval") check.interval = duration;
                    if (flag.name == "timeout") check.timeout = duration;
                    if (flag.name == "start-period") check.start_period = duration;
                    if (flag.name == "start-interval") check.start_interval = duration;
                }
            }
        } else {
            fail("HEALTHCHECK needs NONE or CMD");
        }
        config.healthcheck = check;
    } else if (keyword == "ONBUILD") {
        Instruction trigger = parse_instruction(instruction.arguments, instruction.line, escape);
        if (trigger.keyword == "ONBUILD" || trigger.keyword == "FROM" ||
            trigger.keyword == "MAINTAINER")
            fail("ONBUILD cannot trigger " + trigger.keyword);
        config.on_build.push_back(instruction.arguments);
    } else {
        fail("internal: " + keyword + " is not a config instruction");
    }
}

} // namespace berth::build::detail
