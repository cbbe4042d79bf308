// Health checks as Docker runs them: a command run in the container every
// interval (`--health-cmd` and friends, or the image's HEALTHCHECK), whose
// results make the container "starting", "healthy" or "unhealthy". The
// rules are pure functions here; `Engine::run_healthcheck` runs one check
// (`berth healthcheck run`, which the monitor starts every interval).
#pragma once

#include "berth/oci/image_spec.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::engine {

// As the request keeps it: zero fields take the image's, then Docker's defaults.
struct HealthcheckRequest {
    std::vector<std::string> test; // {"CMD", ...}, {"CMD-SHELL", "cmd"}, {"NONE"}; empty: image's
    std::int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0;
    int retries = 0;
};

void to_json(nlohmann::json& json, const HealthcheckRequest& check);
void from_json(const nlohmann::json& json, HealthcheckRequest& check);

// Docker's defaults: every 30 s, 30 s to answer, unhealthy after 3 failures.
inline constexpr std::int64_t default_health_interval_ns = 30'000'000'000;
inline constexpr std::int64_t default_health_timeout_ns = 30'000'000'000;
inline constexpr int default_health_retries = 3;

// The check a container made from `image` with `request` runs: the flags
// over the image's HEALTHCHECK, defaults filled in; nullopt for none (no
// check anywhere, or NONE / --no-healthcheck).
std::optional<HealthcheckRequest>
effective_healthcheck(const HealthcheckRequest& request,
                      const std::optional<oci::Healthcheck>& image);

// The command to exec for a test: CMD's words, or CMD-SHELL's through /bin/sh -c.
std::vector<std::string> healthcheck_command(const HealthcheckRequest& check);

// Go's duration syntax as Docker's flags take it: "30s", "1m30s", "500ms",
// "1h", "0"; Error "invalid duration" otherwise. Negative values are refused.
std::int64_t parse_go_duration(const std::string& text, const std::string& flag);
// Go's form back: "30s", "1m30s", "500ms" (for messages and inspect).
std::string format_go_duration(std::int64_t nanoseconds);

struct HealthResult {
    std::string start, end; // RFC 3339 with nanoseconds
    int exit_code = 0;      // -1: it did not finish in time
    std::string output;     // at most 4096 bytes, as Docker keeps
};

struct HealthState {
    std::string status = "starting"; // "starting", "healthy", "unhealthy"
    int failing_streak = 0;
    std::vector<HealthResult> log; // the last 5, oldest first
};

nlohmann::json health_state_to_json(const HealthState& state);
HealthState health_state_from_json(const nlohmann::json& json);

// Docker's rules: a success makes it healthy; a failure during the start
// period counts for nothing while it is still starting; otherwise failures
// in a row reach `retries` and make it unhealthy. Keeps the last 5 results.
void record_health_result(HealthState& state, const HealthResult& result,
                          const HealthcheckRequest& check, bool in_start_period);

// "healthy", "unhealthy", "starting" as ps words it: "(healthy)", "(health: starting)".
std::string health_status_suffix(const std::string& status);

} // namespace berth::engine
