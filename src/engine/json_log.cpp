#include "berth/engine/json_log.h"

#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/engine/identity.h"

#include <fcntl.h>
#include <nlohmann/json.hpp>

namespace berth::engine {

namespace {
constexpr std::size_t max_line = 16 * 1024;
}

JsonLogWriter::JsonLogWriter(const std::string& path)
    : fd_(open_fd(path, O_WRONLY | O_CREAT | O_APPEND, 0640)) {}

void JsonLogWriter::write_entry(bool is_stderr, std::string_view text) {
    nlohmann::json entry = {
        {"log", text}, {"stream", is_stderr ? "stderr" : "stdout"}, {"time", now_rfc3339_nano()}};
    // Invalid UTF-8 from a program is replaced, not fatal to its log.
    std::string line = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    write_all(fd_.get(), line, "the container's log");
}

void JsonLogWriter::write(bool is_stderr, std::string_view data) {
    std::string& pending = pending_[is_stderr ? 1 : 0];
    pending.append(data);
    std::size_t start = 0;
    for (;;) {
        std::size_t newline = pending.find('\n', start);
        if (newline == std::string::npos) break;
        // An over-long line goes out in parts as it arrives (below); the rest here.
        while (newline + 1 - start > max_line) {
            write_entry(is_stderr, std::string_view(pending).substr(start, max_line));
            start += max_line;
        }
        write_entry(is_stderr, std::string_view(pending).substr(start, newline + 1 - start));
        start = newline + 1;
    }
    while (pending.size() - start >= max_line) {
        write_entry(is_stderr, std::string_view(pending).substr(start, max_line));
        start += max_line;
    }
    pending.erase(0, start);
}

void JsonLogWriter::flush() {
    for (int stream = 0; stream < 2; ++stream) {
        if (!pending_[stream].empty()) write_entry(stream == 1, pending_[stream]);
        pending_[stream].clear();
    }
}

bool parse_log_line(std::string_view line, LogEntry& entry) {
    nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    if (!json.is_object() || !json.contains("log") || !json["log"].is_string()) return false;
    entry.text = json["log"].get<std::string>();
    entry.stream = json.value("stream", "stdout");
    entry.time = json.value("time", "");
    return true;
}

} // namespace berth::engine
