#include "output.h"

#include "berth/base/error.h"

#include <cmath>
#include <ctime>
#include <iostream>

namespace berth::cli {

std::string human_size(std::int64_t bytes) {
    static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1000 && unit < 5) {
        value /= 1000;
        ++unit;
    }
    char text[32];
    // %.3g gives Docker's three significant digits ("4.26MB", "123kB").
    std::snprintf(text, sizeof text, "%.3g%s", value, units[unit]);
    return text;
}

std::int64_t parse_rfc3339(const std::string& text) {
    std::tm parts{};
    int year, month, day, hour, minute, second;
    if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d", &year, &month, &day, &hour, &minute,
                    &second) != 6)
        return -1;
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = second;
    std::int64_t seconds = ::timegm(&parts);
    // A zone offset after the seconds ("+02:00"), fractions skipped.
    auto zone = text.find_first_of("+-", 19);
    if (zone != std::string::npos && text.size() >= zone + 6) {
        int zone_hours = 0, zone_minutes = 0;
        if (std::sscanf(text.c_str() + zone + 1, "%d:%d", &zone_hours, &zone_minutes) == 2) {
            int offset = (zone_hours * 60 + zone_minutes) * 60;
            seconds += text[zone] == '+' ? -offset : offset;
        }
    }
    return seconds;
}

std::string time_since(const std::string& rfc3339) {
    std::int64_t then = parse_rfc3339(rfc3339);
    if (then < 0) return "N/A";
    double seconds = static_cast<double>(std::time(nullptr) - then);
    // Go's units.HumanDuration, which Docker uses.
    auto ago = [](std::string text) { return text + " ago"; };
    if (seconds < 1) return "Less than a second ago";
    if (seconds < 2) return "1 second ago";
    if (seconds < 60) return ago(std::to_string(static_cast<long>(seconds)) + " seconds");
    double minutes = seconds / 60;
    if (minutes < 2) return "About a minute ago";
    if (minutes < 60) return ago(std::to_string(static_cast<long>(minutes)) + " minutes");
    double hours = minutes / 60;
    if (std::lround(hours) == 1) return "About an hour ago";
    if (hours < 48) return ago(std::to_string(std::lround(hours)) + " hours");
    if (hours < 24 * 7 * 2) return ago(std::to_string(static_cast<long>(hours / 24)) + " days");
    if (hours < 24 * 30 * 2)
        return ago(std::to_string(static_cast<long>(hours / 24 / 7)) + " weeks");
    if (hours < 24 * 365 * 2)
        return ago(std::to_string(static_cast<long>(hours / 24 / 30)) + " months");
    return ago(std::to_string(static_cast<long>(hours / 24 / 365)) + " years");
}

namespace {

// Columns on a terminal: UTF-8 continuation bytes take none ("…" is one).
std::size_t display_width(const std::string& text) {
    std::size_t width = 0;
    for (unsigned char c : text)
        width += (c & 0xC0) != 0x80;
    return width;
}

} // namespace

std::string table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (widths.size() <= i) widths.push_back(0);
            widths[i] = std::max(widths[i], display_width(row[i]));
        }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - display_width(row[i]) + 3, ' ');
        }
        out += line + "\n";
    }
    return out;
}

namespace {

std::string unescape(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 't' || text[i + 1] == 'n')) {
            out += text[i + 1] == 't' ? '\t' : '\n';
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

// Go's default formatting of a value in a template: strings bare, lists as
// [a b], maps as map[k:v].
std::string go_text(const nlohmann::json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_null()) return "<no value>";
    if (value.is_array()) {
        std::string out = "[";
        for (std::size_t i = 0; i < value.size(); ++i)
            out += (i ? " " : "") + go_text(value[i]);
        return out + "]";
    }
    if (value.is_object()) {
        std::string out = "map[";
        bool first = true;
        for (auto& [key, item] : value.items()) {
            out += (first ? "" : " ") + key + ":" + go_text(item);
            first = false;
        }
        return out + "]";
    }
    return value.dump();
}

const nlohmann::json* lookup(const nlohmann::json& root, const std::string& path) {
    if (path == ".") return &root;
    if (path.empty() || path[0] != '.') fail("--format: unsupported expression \"" + path + "\"");
    const nlohmann::json* value = &root;
    std::size_t start = 1;
    while (start <= path.size()) {
        auto dot = path.find('.', start);
        std::string key =
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!value->is_object() || !value->contains(key))
            fail("--format: no field \"" + key + "\" (in " + path + ")");
        value = &(*value)[key];
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return value;
}

std::string trim(const std::string& text) {
    auto begin = text.find_first_not_of(' ');
    if (begin == std::string::npos) return {};
    return text.substr(begin, text.find_last_not_of(' ') - begin + 1);
}

} // namespace

Template::Template(std::string text) {
    if (text.rfind("table", 0) == 0) {
        table_ = true;
        text = trim(text.substr(5));
        if (text.empty())
            fail("--format table: give the columns, e.g. \"table {{.ID}}\\t{{.Tag}}\"");
    }
    text = unescape(text);
    std::size_t position = 0;
    while (position < text.size()) {
        auto open = text.find("{{", position);
        if (open == std::string::npos) {
            pieces_.push_back({false, text.substr(position)});
            break;
        }
        if (open > position) pieces_.push_back({false, text.substr(position, open - position)});
        auto close = text.find("}}", open);
        if (close == std::string::npos) fail("--format: \"{{\" without \"}}\"");
        pieces_.push_back({true, trim(text.substr(open + 2, close - open - 2))});
        position = close + 2;
    }
}

std::string Template::render(const nlohmann::json& row) const {
    std::string out;
    for (const auto& piece : pieces_) {
        if (!piece.action) {
            out += piece.text;
        } else if (piece.text.rfind("json ", 0) == 0) {
            out += lookup(row, trim(piece.text.substr(5)))->dump();
        } else {
            out += go_text(*lookup(row, piece.text));
        }
    }
    return out;
}

std::string Template::header(const std::vector<std::pair<std::string, std::string>>& titles) const {
    std::string out;
    for (const auto& piece : pieces_) {
        if (!piece.action) {
            out += piece.text;
            continue;
        }
        std::string field = piece.text.rfind(".", 0) == 0 ? piece.text.substr(1) : piece.text;
        std::string title;
        for (const auto& [name, shown] : titles)
            if (name == field) title = shown;
        if (title.empty())
            for (char c : field)
                title += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out += title;
    }
    return out;
}

void print_inspected(const nlohmann::json& items, const std::string& format) {
    if (format.empty()) {
        std::cout << items.dump(4) << "\n";
        return;
    }
    Template compiled(format);
    for (const auto& item : items)
        std::cout << compiled.render(item) << "\n";
}

} // namespace berth::cli
