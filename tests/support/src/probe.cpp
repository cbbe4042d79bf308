// Finding the probe binary and its JSON report.
#include "berth_test/probe.hpp"

#include <cstdlib>
#include <string_view>

#ifndef BERTH_PROBE_PATH
#error "BERTH_PROBE_PATH must be set by tests/support/CMakeLists.txt"
#endif

namespace berth_test {
namespace {

// Parses text as JSON; only an object counts as a probe report.
bool try_parse_object(std::string_view text, nlohmann::json& out) {
    auto parsed = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return false;
    out = std::move(parsed);
    return true;
}

} // namespace

std::filesystem::path probe_binary_path() {
    const char* env = std::getenv("BERTH_PROBE");
    return env && *env ? std::filesystem::path(env) : std::filesystem::path(BERTH_PROBE_PATH);
}

nlohmann::json parse_probe_output(const std::string& output) {
    nlohmann::json result;
    // The probe prints its object on one line; other lines (warnings from the
    // runtime, shell noise) are skipped. Trailing '\r' comes from ptys.
    std::string_view rest = output;
    while (!rest.empty()) {
        size_t eol = rest.find('\n');
        std::string_view line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
        size_t start = line.find_first_not_of(" \t\r");
        if (start != std::string_view::npos && line[start] == '{' &&
            try_parse_object(line.substr(start), result))
            return result;
    }
    // Fallback for an object split over lines (pretty-printed or wrapped).
    size_t first = output.find('{');
    size_t last = output.rfind('}');
    if (first != std::string::npos && last != std::string::npos && first < last &&
        try_parse_object(std::string_view(output).substr(first, last - first + 1), result))
        return result;

    constexpr size_t kExcerpt = 600;
    std::string excerpt = output.substr(0, kExcerpt);
    if (output.size() > kExcerpt) excerpt += "...";
    throw ProbeOutputError("no probe JSON object in output (" + std::to_string(output.size()) +
                           " bytes): \"" + excerpt + "\"");
}

} // namespace berth_test
