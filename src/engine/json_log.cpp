#include "berth/engine/json_log.h"

#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/engine/identity.h"

#include "berth/base/error.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace berth::engine {

namespace {
constexpr std::size_t max_line = 16 * 1024;
}

LogRotation parse_log_options(const std::map<std::string, std::string>& options) {
    LogRotation rotation;
    for (const auto& [key, value] : options) {
        if (key == "max-size") {
            std::size_t used = 0;
            std::uint64_t number = 0;
            try {
                number = std::stoull(value, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            std::string unit = value.substr(used);
            static const std::map<std::string, std::uint64_t> units = {{"", 1},
                                                                       {"b", 1},
                                                                       {"k", 1000},
                                                                       {"kb", 1000},
                                                                       {"m", 1000 * 1000},
                                                                       {"mb", 1000 * 1000},
                                                                       {"g", 1000 * 1000 * 1000},
                                                                       {"gb", 1000 * 1000 * 1000}};
            for (char& c : unit)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            auto scale = units.find(unit);
            if (used == 0 || scale == units.end() || number == 0)
                fail("invalid --log-opt max-size=" + value + " (e.g. 10m, 512k, 1g)");
            rotation.max_size = number * scale->second;
        } else if (key == "max-file") {
            int files = 0;
            try {
                files = std::stoi(value);
            } catch (const std::exception&) {
            }
            if (files < 1) fail("invalid --log-opt max-file=" + value + ": a number from 1 up");
            rotation.max_files = static_cast<unsigned>(files);
        } else {
            fail("unknown log option " + key +
                 " for the json-file log driver (it has max-size "
                 "and max-file)");
        }
    }
    if (rotation.max_files > 1 && rotation.max_size == 0)
        fail("--log-opt max-file needs max-size as well");
    return rotation;
}

std::vector<std::string> log_files(const std::string& path) {
    std::vector<std::string> files;
    for (unsigned n = 1; path_exists(path + "." + std::to_string(n)); ++n)
        files.insert(files.begin(), path + "." + std::to_string(n));
    if (path_exists(path)) files.push_back(path);
    return files;
}

JsonLogWriter::JsonLogWriter(const std::string& path, LogRotation rotation)
    : path_(path), rotation_(rotation), fd_(open_fd(path, O_WRONLY | O_CREAT | O_APPEND, 0640)) {
    struct stat st;
    if (::fstat(fd_.get(), &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
}

// path.(N-2) → path.(N-1), ..., path → path.1, and a fresh path; with one
// file, the file starts over (docker's max-file=1).
void JsonLogWriter::rotate() {
    for (unsigned n = rotation_.max_files - 1; n >= 1; --n) {
        std::string from = n == 1 ? path_ : path_ + "." + std::to_string(n - 1);
        std::string to = path_ + "." + std::to_string(n);
        if (::rename(from.c_str(), to.c_str()) < 0 && errno != ENOENT)
            throw_errno("rotating the container's log");
    }
    fd_ = open_fd(path_, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0640);
    size_ = 0;
}

void JsonLogWriter::write_entry(bool is_stderr, std::string_view text) {
    nlohmann::json entry = {
        {"log", text}, {"stream", is_stderr ? "stderr" : "stdout"}, {"time", now_rfc3339_nano()}};
    // Invalid UTF-8 from a program is replaced, not fatal to its log.
    std::string line = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (rotation_.max_size && size_ > 0 && size_ + line.size() > rotation_.max_size) rotate();
    write_all(fd_.get(), line, "the container's log");
    size_ += line.size();
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
