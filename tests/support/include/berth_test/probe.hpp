// Locating and interpreting the berth-probe helper (tests/probe/probe.c).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace berth_test {

// Where the probe binary lives on the host: $BERTH_PROBE if set, otherwise
// the path of the berth-probe target recorded at build time.
std::filesystem::path probe_binary_path();

// Thrown when output contains no probe JSON object; the message quotes the
// beginning of the output so the failing test shows what came back instead.
class ProbeOutputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Extracts the probe's JSON object from command output that may also carry
// other lines (runtime warnings, pty "\r\n" endings). Throws ProbeOutputError.
nlohmann::json parse_probe_output(const std::string& output);

} // namespace berth_test
