// runc-style arguments: "--flag value", "--flag=value", "-flag value" and
// short aliases, flags and positional arguments in any order.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace berth::runtime_cli {

struct FlagSpec {
    std::vector<std::string> names; // first is the canonical name: {"bundle", "b"}
    bool takes_value = false;
};

struct Arguments {
    std::map<std::string, std::vector<std::string>> values; // canonical name → values given
    std::set<std::string> switches; // canonical names of boolean flags given
    std::vector<std::string> positional;

    bool has(const std::string& name) const { return switches.count(name) || values.count(name); }
    // The last value given, as a repeated single-valued flag means in Go.
    std::string value(const std::string& name, const std::string& fallback = "") const {
        auto it = values.find(name);
        return it == values.end() ? fallback : it->second.back();
    }
    // Every value of a repeatable flag (--env A=1 --env B=2).
    std::vector<std::string> all(const std::string& name) const {
        auto it = values.find(name);
        return it == values.end() ? std::vector<std::string>{} : it->second;
    }
};

// Parses args[first...]; stops at the first positional when `stop_at_positional`
// (global flags end where the command begins). `next` gets the index reached.
Arguments parse_arguments(const std::vector<std::string>& args, std::size_t first,
                          const std::vector<FlagSpec>& flags, bool stop_at_positional,
                          std::size_t* next = nullptr);

} // namespace berth::runtime_cli
