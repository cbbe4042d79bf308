#include "arguments.h"

#include "berth/base/error.h"

namespace berth::runtime_cli {

namespace {

const FlagSpec* find_flag(const std::vector<FlagSpec>& flags, const std::string& name) {
    for (const auto& flag : flags)
        for (const auto& alias : flag.names)
            if (alias == name) return &flag;
    return nullptr;
}

} // namespace

Arguments parse_arguments(const std::vector<std::string>& args, std::size_t first,
                          const std::vector<FlagSpec>& flags, bool stop_at_positional,
                          std::size_t* next) {
    Arguments parsed;
    std::size_t i = first;
    bool only_positional = false;
    for (; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (only_positional || arg.size() < 2 || arg[0] != '-') {
            if (stop_at_positional) break;
            parsed.positional.push_back(arg);
            continue;
        }
        if (arg == "--") {
            only_positional = true;
            continue;
        }
        std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
        std::string value;
        bool inline_value = false;
        if (auto equals = name.find('='); equals != std::string::npos) {
            value = name.substr(equals + 1);
            name = name.substr(0, equals);
            inline_value = true;
        }
        const FlagSpec* flag = find_flag(flags, name);
        if (!flag) fail("flag provided but not defined: -" + name);
        if (!flag->takes_value) {
            if (inline_value && value != "true" && value != "1") {
                if (value != "false" && value != "0") fail("invalid boolean value for -" + name);
                continue;
            }
            parsed.switches.insert(flag->names[0]);
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= args.size()) fail("flag needs an argument: -" + name);
            value = args[++i];
        }
        parsed.values[flag->names[0]].push_back(value);
    }
    if (next) *next = i;
    return parsed;
}

} // namespace berth::runtime_cli
