#include "berth/base/log.h"

#include "berth/base/clock.h"

#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace berth::log {

namespace {

struct Settings {
    int fd = STDERR_FILENO;
    Format format = Format::text;
    bool debug = false;
};

Settings settings;

const char* level_name(Level level) {
    switch (level) {
    case Level::debug:
        return "debug";
    case Level::info:
        return "info";
    case Level::warning:
        return "warning";
    case Level::error:
        return "error";
    }
    return "error";
}

} // namespace

void configure(const std::string& path, Format format, bool debug) {
    settings.format = format;
    settings.debug = debug;
    if (path.empty()) return;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) settings.fd = fd;
}

bool logging_to_file() {
    return settings.fd != STDERR_FILENO;
}

std::string json_quote(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                out += escaped;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

void write(Level level, std::string_view message) {
    if (level == Level::debug && !settings.debug) return;
    std::string line;
    if (settings.format == Format::json) {
        line = "{\"level\":\"" + std::string(level_name(level)) +
               "\",\"msg\":" + json_quote(message) + ",\"time\":\"" + rfc3339_now() + "\"}\n";
    } else if (settings.fd == STDERR_FILENO && level == Level::error) {
        line = std::string(message) + "\n";
    } else {
        line = rfc3339_now() + " " + level_name(level) + " " + std::string(message) + "\n";
    }
    // One write per line, so lines from several processes never interleave.
    [[maybe_unused]] ssize_t ignored = ::write(settings.fd, line.data(), line.size());
}

} // namespace berth::log
