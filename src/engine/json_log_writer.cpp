// The json-file log's writer. It runs in berth-monitor, which links no JSON
// library, so it quotes strings itself (what nlohmann's dump does with
// error_handler replace: invalid UTF-8 becomes U+FFFD).
#include "berth/engine/json_log.h"

#include "berth/base/clock.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>

namespace berth::engine {

namespace {

constexpr std::size_t max_line = 16 * 1024;

// The UTF-8 sequence at the start of `text`: its length, or, if it is
// invalid (overlong forms, surrogates, past U+10FFFF, cut short), how many
// bytes form its valid beginning (at least 1), all of which one U+FFFD
// replaces, as nlohmann's decoder does.
struct Utf8Sequence {
    std::size_t length;
    bool valid;
};

Utf8Sequence utf8_sequence(std::string_view text) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char lead = byte(0);
    std::size_t length;
    unsigned char low = 0x80, high = 0xbf; // the second byte's range
    if (lead < 0x80) return {1, true};
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0) low = 0xa0;
        if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0) low = 0x90;
        if (lead == 0xf4) high = 0x8f;
    } else {
        return {1, false};
    }
    for (std::size_t i = 1; i < length; ++i) {
        if (i >= text.size()) return {i, false};
        unsigned char min = i == 1 ? low : 0x80, max = i == 1 ? high : 0xbf;
        if (byte(i) < min || byte(i) > max) return {i, false};
    }
    return {length, true};
}

} // namespace

void append_json_string(std::string& out, std::string_view text) {
    out.push_back('"');
    for (std::size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            Utf8Sequence sequence = utf8_sequence(text.substr(i));
            if (sequence.valid)
                out.append(text.substr(i, sequence.length));
            else
                out.append("\xef\xbf\xbd"); // U+FFFD
            i += sequence.length;
            continue;
        }
        ++i;
        switch (c) {
        case '"':
            out.append("\\\"");
            break;
        case '\\':
            out.append("\\\\");
            break;
        case '\b':
            out.append("\\b");
            break;
        case '\f':
            out.append("\\f");
            break;
        case '\n':
            out.append("\\n");
            break;
        case '\r':
            out.append("\\r");
            break;
        case '\t':
            out.append("\\t");
            break;
        default:
            if (c < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                out.append(escaped);
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    out.push_back('"');
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
    std::string line = "{\"log\":";
    append_json_string(line, text);
    line += is_stderr ? ",\"stream\":\"stderr\",\"time\":\"" : ",\"stream\":\"stdout\",\"time\":\"";
    line += rfc3339_now();
    line += "\"}\n";
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

} // namespace berth::engine
