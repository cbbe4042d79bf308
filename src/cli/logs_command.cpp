// berth logs (and container logs): the json-file log, its rotated files
// included, filtered by time, followed while the container runs.
#include "container_commands.h"
#include "output.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/engine/json_log.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace berth::cli {

namespace {

struct LogsOptions {
    std::string reference, tail = "all", since, until;
    bool follow = false, timestamps = false, details = false;
};

// Reads a file's complete lines from where it was left.
class LineReader {
  public:
    explicit LineReader(const std::string& path)
        : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
    bool is_open() const { return static_cast<bool>(fd_); }
    ino_t inode() const {
        struct stat st {};
        return fd_ && ::fstat(fd_.get(), &st) == 0 ? st.st_ino : 0;
    }
    std::vector<std::string> read_lines() {
        std::vector<std::string> lines;
        char buffer[65536];
        ssize_t got;
        while (fd_ && (got = ::read(fd_.get(), buffer, sizeof buffer)) > 0) {
            pending_.append(buffer, static_cast<std::size_t>(got));
            std::size_t start = 0, newline;
            while ((newline = pending_.find('\n', start)) != std::string::npos) {
                lines.push_back(pending_.substr(start, newline - start));
                start = newline + 1;
            }
            pending_.erase(0, start);
        }
        return lines;
    }

  private:
    UniqueFd fd_;
    std::string pending_;
};

void print_logs(engine::Engine& engine, const LogsOptions& options) {
    engine::ContainerRecord record = engine.get(options.reference);
    if (engine.request(record.id).log_driver == "none")
        fail("configured logging driver does not support reading");
    double since = options.since.empty() ? -INFINITY : parse_time_bound(options.since, "--since");
    double until = options.until.empty() ? INFINITY : parse_time_bound(options.until, "--until");
    auto print = [&](const std::string& line) {
        engine::LogEntry entry;
        if (!engine::parse_log_line(line, entry)) return;
        double at = seconds_of_rfc3339(entry.time);
        if (!std::isnan(at) && (at < since || at > until)) return;
        // --details: the extra attributes docker adds (labels and env the
        // log driver was asked for; berth's has none) and a space before the text.
        std::string text = (options.timestamps ? entry.time + " " : std::string()) +
                           (options.details ? " " : "") + entry.text;
        write_all(entry.stream == "stderr" ? STDERR_FILENO : STDOUT_FILENO, text,
                  "the log's output");
    };

    std::string path = engine.log_path(record.id);
    std::vector<std::string> lines;
    std::vector<std::string> files = engine::log_files(path);
    for (std::size_t i = 0; i + 1 < files.size(); ++i)
        for (auto& line : LineReader(files[i]).read_lines())
            lines.push_back(std::move(line));
    LineReader current(path);
    for (auto& line : current.read_lines())
        lines.push_back(std::move(line));
    std::size_t first = 0;
    // Docker's: a count, anything else ("all", "-1", "x") all lines.
    if (!options.tail.empty() &&
        options.tail.find_first_not_of("0123456789") == std::string::npos) {
        std::size_t count = options.tail.size() > 18
                                ? lines.size()
                                : static_cast<std::size_t>(std::stoull(options.tail));
        if (lines.size() > count) first = lines.size() - count;
    }
    for (std::size_t i = first; i < lines.size(); ++i)
        print(lines[i]);
    if (!options.follow || (!options.until.empty() && until <= std::time(nullptr))) return;
    // Until the container stops: the monitor appends, and rotates the file
    // away (then what is left in the old one is read, and the new one opened).
    for (;;) {
        bool running = false;
        try {
            running = engine.get(record.id).state == engine::ContainerState::running;
        } catch (const Error&) {
        }
        for (const auto& line : current.read_lines())
            print(line);
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && st.st_ino != current.inode()) {
            current = LineReader(path);
            continue;
        }
        if (!running) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void define_logs(CLI::App* command, GlobalOptions& global) {
    auto options = std::make_shared<LogsOptions>();
    command->add_flag("-f,--follow", options->follow,
                      "Follow the output until the container stops");
    command->add_option("-n,--tail", options->tail, "Lines to show from the end (default all)");
    command->add_flag("-t,--timestamps", options->timestamps, "Show timestamps");
    command->add_flag("--details", options->details, "Show extra details given to logs");
    command->add_option("--since", options->since,
                        "Only entries since a time (RFC 3339, Unix time, or a duration: 10m)");
    command->add_option("--until", options->until, "Only entries until a time (as --since)");
    command->add_option("CONTAINER", options->reference, "Container")->required();
    command->callback([&global, options] {
        auto engine = open_engine(global);
        print_logs(engine, *options);
    });
}

} // namespace

void add_logs_command(CLI::App& app, GlobalOptions& global) {
    define_logs(app.add_subcommand("logs", "Show a container's output"), global);
    define_logs(container_group(app).add_subcommand("logs", "Show a container's output"), global);
}

} // namespace berth::cli
