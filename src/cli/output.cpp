#include "output.h"

#include "berth/base/error.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
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

// RFC 3339 with any fraction → seconds since the epoch; NaN if unparsable.
double seconds_of_rfc3339(const std::string& text) {
    std::int64_t whole = parse_rfc3339(text);
    if (whole < 0) return NAN;
    double fraction = 0;
    if (auto dot = text.find('.'); dot != std::string::npos && dot > 10) {
        double scale = 0.1;
        for (std::size_t i = dot + 1;
             i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
            fraction += (text[i] - '0') * scale;
            scale /= 10;
        }
    }
    return static_cast<double>(whole) + fraction;
}

// docker's --since/--until: RFC 3339, a Unix time ("1700000000.5"), or a
// duration before now ("10m", "1h30m", "45s").
double parse_time_bound(const std::string& text, const char* flag) {
    double rfc = seconds_of_rfc3339(text);
    if (!std::isnan(rfc)) return rfc;
    char* end = nullptr;
    double unix_time = std::strtod(text.c_str(), &end);
    if (!text.empty() && end && *end == '\0') return unix_time;
    double seconds = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t used = 0;
        double amount;
        try {
            amount = std::stod(text.substr(i), &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || i + used >= text.size()) fail(std::string("invalid ") + flag + " " + text);
        i += used;
        char unit = text[i++];
        if (unit == 'm' && i < text.size() && text[i] == 's') {
            seconds += amount / 1000;
            ++i;
            continue;
        }
        double scale = unit == 'h' ? 3600 : unit == 'm' ? 60 : unit == 's' ? 1 : -1;
        if (scale < 0) fail(std::string("invalid ") + flag + " " + text);
        seconds += amount * scale;
    }
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration<double>(now).count() - seconds;
}

std::string time_since(const std::string& rfc3339) {
    double then = seconds_of_rfc3339(rfc3339);
    if (std::isnan(then)) return "N/A";
    // To the nanosecond, as Docker's: a container started 0.4 s ago is "Less
    // than a second" old, whatever second boundary lies between.
    auto now = std::chrono::system_clock::now().time_since_epoch();
    double seconds = std::chrono::duration<double>(now).count() - then;
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

std::string table(const std::vector<std::vector<std::string>>& rows, std::size_t min_width) {
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
            // Go's tabwriter as Docker sets it up: cells at least 10 columns
            // wide, 3 spaces of padding.
            if (i + 1 < row.size())
                line += std::string(
                    std::max<std::size_t>(widths[i] + 3, min_width) - display_width(row[i]), ' ');
        }
        out += line + "\n";
    }
    return out;
}

std::string format_rows(const Template& format, const std::vector<nlohmann::json>& rows,
                        const std::vector<std::pair<std::string, std::string>>& titles,
                        const std::vector<nlohmann::json>& methods) {
    auto methods_of = [&](std::size_t i) {
        return i < methods.size() ? methods[i] : nlohmann::json::object();
    };
    std::string out;
    if (!format.is_table()) {
        for (std::size_t i = 0; i < rows.size(); ++i)
            out += format.render(rows[i], methods_of(i)) + "\n";
        return out;
    }
    auto columns = [](const std::string& line) {
        std::vector<std::string> parts;
        std::size_t start = 0, tab;
        while ((tab = line.find('\t', start)) != std::string::npos) {
            parts.push_back(line.substr(start, tab - start));
            start = tab + 1;
        }
        parts.push_back(line.substr(start));
        return parts;
    };
    std::vector<std::vector<std::string>> cells = {columns(format.header(titles))};
    for (std::size_t i = 0; i < rows.size(); ++i)
        cells.push_back(columns(format.render(rows[i], methods_of(i))));
    return table(cells);
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
