// The runtime's log: text or JSON lines (as runc writes them with
// --log-format json, which containerd's shim reads back), to a file or stderr.
#pragma once

#include <string>
#include <string_view>

namespace berth::log {

enum class Format { text, json };
enum class Level { debug, info, warning, error };

// Where and how to log; by default text to stderr, debug lines dropped.
void configure(const std::string& path, Format format, bool debug);

void write(Level level, std::string_view message);
inline void debug(std::string_view message) {
    write(Level::debug, message);
}
inline void warning(std::string_view message) {
    write(Level::warning, message);
}
inline void error(std::string_view message) {
    write(Level::error, message);
}

// True when errors go to a log file, so they must also be shown on stderr.
bool logging_to_file();

// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

} // namespace berth::log
