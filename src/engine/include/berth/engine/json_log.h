// Docker's json-file log driver format, one JSON object a line:
//   {"log":"hi\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}
// so that tools reading Docker's logs read berth's. Lines longer than 16 KiB
// are split as Docker splits them (the parts without a trailing "\n").
#pragma once

#include "berth/base/unique_fd.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace berth::engine {

struct LogEntry {
    std::string stream; // "stdout" or "stderr"
    std::string time;   // RFC 3339 with nanoseconds
    std::string text;   // the line with its "\n" (none on a partial line)
};

// docker's --log-opt max-size and max-file.
struct LogRotation {
    std::uint64_t max_size = 0; // bytes a file may reach before the next; 0: no limit
    unsigned max_files = 1;     // the file and its older copies path.1 .. path.(N-1)
};

// "10m", "1g", "512k", "100" → bytes; Error naming the option otherwise.
LogRotation parse_log_options(const std::map<std::string, std::string>& options);

// The log's files with entries, oldest first (path.N-1 .. path.1, path).
std::vector<std::string> log_files(const std::string& path);

class JsonLogWriter {
  public:
    // Appends to `path` (created 0640), rotating it as `rotation` says.
    explicit JsonLogWriter(const std::string& path, LogRotation rotation = {});
    // Takes a chunk of a stream's bytes; complete lines are written at once.
    void write(bool is_stderr, std::string_view data);
    // Writes what is left of an unfinished line (at the end of the streams).
    void flush();
    // The start of a line not written yet, for another writer (another
    // process's) to go on with through continue_line: a line is never split
    // where one writer hands over to the next.
    const std::string& unfinished_line(bool is_stderr) const { return pending_[is_stderr]; }
    void continue_line(bool is_stderr, std::string start) {
        pending_[is_stderr] = std::move(start);
    }

  private:
    void write_entry(bool is_stderr, std::string_view text);
    void rotate();

    std::string path_;
    LogRotation rotation_;
    std::uint64_t size_ = 0;
    UniqueFd fd_;
    std::string pending_[2]; // stdout, stderr
};

// Appends `text` as a JSON string (quoted, escaped; invalid UTF-8 becomes
// U+FFFD, as nlohmann's dump with error_handler replace writes it).
void append_json_string(std::string& out, std::string_view text);

// The entry of one log line; false for a malformed line.
bool parse_log_line(std::string_view line, LogEntry& entry);

} // namespace berth::engine
