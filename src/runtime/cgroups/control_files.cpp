#include "control_files.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/text.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <limits>
#include <unistd.h>

namespace berth::runtime::cgroups {

void write_control(const std::string& directory, const std::string& file, std::string_view value) {
    std::string path = directory + "/" + file;
    std::string what = "writing " + std::string(value) + " to " + path;
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) throw_errno(what);
    UniqueFd owned(fd);
    ssize_t written;
    do {
        written = ::write(fd, value.data(), value.size());
    } while (written < 0 && errno == EINTR);
    // Control files take a value in one write; a short one is a refusal too.
    if (written < 0) throw_errno(what);
    if (static_cast<std::size_t>(written) != value.size()) fail(what + ": short write");
}

std::string read_control(const std::string& directory, const std::string& file) {
    return read_file(directory + "/" + file);
}

std::string trim(std::string_view text) {
    auto begin = text.find_first_not_of(" \t\n");
    if (begin == std::string_view::npos) return "";
    auto end = text.find_last_not_of(" \t\n");
    return std::string(text.substr(begin, end - begin + 1));
}

std::string read_control_trimmed(const std::string& directory, const std::string& file) {
    return trim(read_control(directory, file));
}

bool has_control(const std::string& directory, const std::string& file) {
    return ::access((directory + "/" + file).c_str(), F_OK) == 0;
}

namespace {

std::uint64_t parse_number(const std::string& text, const std::string& shown) {
    if (text == "max") return std::numeric_limits<std::uint64_t>::max();
    try {
        std::size_t used = 0;
        // v1 reports "no limit" as -1 in some files (cpu.cfs_quota_us).
        if (!text.empty() && text[0] == '-') {
            long long value = std::stoll(text, &used);
            if (used == text.size() && value < 0) return std::numeric_limits<std::uint64_t>::max();
        } else {
            unsigned long long value = std::stoull(text, &used);
            if (used == text.size()) return value;
        }
    } catch (const std::exception&) {
    }
    fail(shown + ": expected a number, found \"" + text + "\"");
}

} // namespace

std::uint64_t read_control_number(const std::string& directory, const std::string& file) {
    return parse_number(read_control_trimmed(directory, file), directory + "/" + file);
}

std::map<std::string, std::uint64_t> read_keyed_control(const std::string& directory,
                                                        const std::string& file) {
    std::map<std::string, std::uint64_t> values;
    for (const std::string& line : split_lines(read_control(directory, file))) {
        auto words = split_words(line);
        if (words.size() != 2) continue;
        try {
            values[words[0]] = parse_number(words[1], directory + "/" + file);
        } catch (const Error&) {
            // A key with a non-numeric value is none of the figures callers read.
        }
    }
    return values;
}

std::vector<std::string> child_cgroups(const std::string& directory) {
    std::vector<std::string> children;
    DIR* dir = ::opendir(directory.c_str());
    if (!dir) {
        if (errno == ENOENT) return children;
        throw_errno("listing " + directory);
    }
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name == "." || name == ".." || entry->d_type != DT_DIR) continue;
        children.push_back(directory + "/" + name);
    }
    ::closedir(dir);
    return children;
}

} // namespace berth::runtime::cgroups
