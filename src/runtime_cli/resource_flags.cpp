#include "resource_flags.h"

#include "berth/base/error.h"

#include <cctype>

namespace berth::runtime_cli {

namespace {

std::int64_t parse_number(const std::string& text, const char* flag) {
    try {
        std::size_t used = 0;
        long long value = std::stoll(text, &used);
        if (used == text.size()) return value;
    } catch (...) {
    }
    fail(std::string("--") + flag + ": not a number: \"" + text + "\"");
}

} // namespace

std::int64_t parse_bytes(const std::string& text, const char* flag) {
    if (text == "-1") return -1;
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
        ++digits;
    if (digits == 0) fail(std::string("--") + flag + ": not a size: \"" + text + "\"");
    std::int64_t value = parse_number(text.substr(0, digits), flag);
    std::string unit = text.substr(digits);
    for (char& c : unit)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!unit.empty() && unit.back() == 'b') unit.pop_back();
    std::int64_t scale = unit.empty()  ? 1
                         : unit == "k" ? 1LL << 10
                         : unit == "m" ? 1LL << 20
                         : unit == "g" ? 1LL << 30
                         : unit == "t" ? 1LL << 40
                                       : 0;
    if (scale == 0) fail(std::string("--") + flag + ": unknown unit in \"" + text + "\"");
    return value * scale;
}

int parse_duration_ms(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
        ++digits;
    if (digits == 0) fail("--interval: not a duration: \"" + text + "\"");
    long long value = std::stoll(text.substr(0, digits));
    std::string unit = text.substr(digits);
    long long ms = unit == "ms"                  ? value
                   : unit == "s" || unit.empty() ? value * 1000
                   : unit == "m"                 ? value * 60000
                                                 : -1;
    if (ms <= 0) fail("--interval: not a duration: \"" + text + "\"");
    return static_cast<int>(ms);
}

nlohmann::json resources_from_flags(const Arguments& args) {
    nlohmann::json resources = nlohmann::json::object();
    auto set = [&](const char* flag, const char* group, const char* field, bool bytes) {
        if (!args.has(flag)) return;
        std::string text = args.value(flag);
        resources[group][field] = bytes ? parse_bytes(text, flag) : parse_number(text, flag);
    };
    set("memory", "memory", "limit", true);
    set("memory-swap", "memory", "swap", true);
    set("memory-reservation", "memory", "reservation", true);
    set("kernel-memory", "memory", "kernel", true);
    set("kernel-memory-tcp", "memory", "kernelTCP", true);
    set("cpu-shares", "cpu", "shares", false);
    set("cpu-quota", "cpu", "quota", false);
    set("cpu-period", "cpu", "period", false);
    set("cpu-rt-period", "cpu", "realtimePeriod", false);
    set("cpu-rt-runtime", "cpu", "realtimeRuntime", false);
    if (args.has("cpuset-cpus")) resources["cpu"]["cpus"] = args.value("cpuset-cpus");
    if (args.has("cpuset-mems")) resources["cpu"]["mems"] = args.value("cpuset-mems");
    set("pids-limit", "pids", "limit", false);
    set("blkio-weight", "blockIO", "weight", false);
    if (resources.empty()) fail("update: nothing to change (give --resources or a limit flag)");
    return resources;
}

} // namespace berth::runtime_cli
