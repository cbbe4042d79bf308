#include "berth/engine/healthcheck.h"

#include "berth/base/error.h"

#include <cctype>
#include <cstdlib>

namespace berth::engine {

using nlohmann::json;

void to_json(json& out, const HealthcheckRequest& check) {
    out = {{"test", check.test},
           {"interval_ns", check.interval_ns},
           {"timeout_ns", check.timeout_ns},
           {"start_period_ns", check.start_period_ns},
           {"retries", check.retries}};
}

void from_json(const json& in, HealthcheckRequest& check) {
    check.test = in.value("test", std::vector<std::string>{});
    check.interval_ns = in.value("interval_ns", std::int64_t{0});
    check.timeout_ns = in.value("timeout_ns", std::int64_t{0});
    check.start_period_ns = in.value("start_period_ns", std::int64_t{0});
    check.retries = in.value("retries", 0);
}

std::optional<HealthcheckRequest>
effective_healthcheck(const HealthcheckRequest& request,
                      const std::optional<oci::Healthcheck>& image) {
    HealthcheckRequest check;
    if (image) {
        check.test = image->test;
        check.interval_ns = image->interval;
        check.timeout_ns = image->timeout;
        check.start_period_ns = image->start_period;
        check.retries = image->retries;
    }
    if (!request.test.empty()) check.test = request.test;
    if (request.interval_ns) check.interval_ns = request.interval_ns;
    if (request.timeout_ns) check.timeout_ns = request.timeout_ns;
    if (request.start_period_ns) check.start_period_ns = request.start_period_ns;
    if (request.retries) check.retries = request.retries;
    if (check.test.empty() || check.test.front() == "NONE") return std::nullopt;
    if (check.test.front() != "CMD" && check.test.front() != "CMD-SHELL")
        fail("healthcheck test " + check.test.front() + ": expected CMD, CMD-SHELL or NONE");
    if (check.test.size() < 2) fail("healthcheck test " + check.test.front() + " has no command");
    if (!check.interval_ns) check.interval_ns = default_health_interval_ns;
    if (!check.timeout_ns) check.timeout_ns = default_health_timeout_ns;
    if (!check.retries) check.retries = default_health_retries;
    return check;
}

std::vector<std::string> healthcheck_command(const HealthcheckRequest& check) {
    if (check.test.size() >= 2 && check.test.front() == "CMD-SHELL")
        return {"/bin/sh", "-c", check.test[1]};
    return std::vector<std::string>(check.test.begin() + 1, check.test.end());
}

std::int64_t parse_go_duration(const std::string& text, const std::string& flag) {
    auto invalid = [&] {
        fail("invalid argument \"" + text + "\" for \"" + flag +
             "\" flag: time: invalid duration \"" + text + "\"");
    };
    if (text == "0") return 0;
    if (text.empty() || text.front() == '-') invalid();
    std::int64_t total = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t digits = at;
        while (digits < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
            ++digits;
        if (digits == at) invalid();
        std::string number = text.substr(at, digits - at);
        if (number.find_first_of("0123456789") == std::string::npos ||
            number.find('.') != number.rfind('.'))
            invalid();
        double value = std::strtod(number.c_str(), nullptr);
        std::size_t unit_end = digits;
        while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end])))
            ++unit_end;
        std::string unit = text.substr(digits, unit_end - digits);
        double scale = unit == "ns"   ? 1
                       : unit == "us" ? 1e3
                       : unit == "ms" ? 1e6
                       : unit == "s"  ? 1e9
                       : unit == "m"  ? 60e9
                       : unit == "h"  ? 3600e9
                                      : 0;
        if (scale == 0) invalid();
        // Go's limit: about 290 years.
        if (value * scale > 9.2e18 || static_cast<double>(total) + value * scale > 9.2e18)
            invalid();
        total += static_cast<std::int64_t>(value * scale);
        at = unit_end;
    }
    return total;
}

std::string format_go_duration(std::int64_t ns) {
    if (ns == 0) return "0s";
    if (ns < 1'000'000'000) {
        if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
        return std::to_string(ns) + "ns";
    }
    std::string out;
    std::int64_t seconds = ns / 1'000'000'000;
    if (seconds >= 3600) out += std::to_string(seconds / 3600) + "h";
    if (seconds >= 60) out += std::to_string(seconds / 60 % 60) + "m";
    std::int64_t fraction = ns % 1'000'000'000;
    out += std::to_string(seconds % 60);
    if (fraction) {
        std::string digits = std::to_string(fraction + 1'000'000'000).substr(1);
        while (digits.back() == '0')
            digits.pop_back();
        out += "." + digits;
    }
    return out + "s";
}

json health_state_to_json(const HealthState& state) {
    json log = json::array();
    for (const auto& result : state.log)
        log.push_back({{"Start", result.start},
                       {"End", result.end},
                       {"ExitCode", result.exit_code},
                       {"Output", result.output}});
    return {{"Status", state.status}, {"FailingStreak", state.failing_streak}, {"Log", log}};
}

HealthState health_state_from_json(const json& in) {
    HealthState state;
    if (!in.is_object()) return state;
    state.status = in.value("Status", "starting");
    state.failing_streak = in.value("FailingStreak", 0);
    if (in.contains("Log") && in["Log"].is_array())
        for (const auto& entry : in["Log"])
            state.log.push_back({entry.value("Start", ""), entry.value("End", ""),
                                 entry.value("ExitCode", 0), entry.value("Output", "")});
    return state;
}

void record_health_result(HealthState& state, const HealthResult& result,
                          const HealthcheckRequest& check, bool in_start_period) {
    state.log.push_back(result);
    if (state.log.size() > 5) state.log.erase(state.log.begin(), state.log.end() - 5);
    if (result.exit_code == 0) {
        state.status = "healthy";
        state.failing_streak = 0;
        return;
    }
    // Docker: failures while starting up count for nothing.
    if (in_start_period && state.status == "starting") return;
    ++state.failing_streak;
    int retries = check.retries > 0 ? check.retries : default_health_retries;
    if (state.failing_streak >= retries) state.status = "unhealthy";
}

std::string health_status_suffix(const std::string& status) {
    if (status == "starting") return " (health: starting)";
    if (status.empty() || status == "none") return "";
    return " (" + status + ")";
}

} // namespace berth::engine
