#include "berth/build/dockerignore.h"

#include "berth/base/error.h"
#include "berth/base/text.h"

#include <optional>

namespace berth::build {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

// A character class at pattern[i] == '['; sets `i` past it. nullopt if malformed.
std::optional<bool> match_class(std::string_view pattern, std::size_t& i, char c) {
    ++i;
    bool negated = false;
    if (i < pattern.size() && pattern[i] == '^') {
        negated = true;
        ++i;
    }
    bool matched = false;
    bool first = true;
    for (;;) {
        if (i >= pattern.size()) return std::nullopt;
        if (pattern[i] == ']' && !first) {
            ++i;
            break;
        }
        first = false;
        auto take = [&]() -> std::optional<char> {
            if (i >= pattern.size()) return std::nullopt;
            char x = pattern[i++];
            if (x == '\\') {
                if (i >= pattern.size()) return std::nullopt;
                x = pattern[i++];
            }
            return x;
        };
        auto low = take();
        if (!low) return std::nullopt;
        char high = *low;
        if (i < pattern.size() && pattern[i] == '-' && i + 1 < pattern.size() &&
            pattern[i + 1] != ']') {
            ++i;
            auto upper = take();
            if (!upper) return std::nullopt;
            high = *upper;
        }
        if (*low <= c && c <= high) matched = true;
    }
    return matched != negated;
}

bool match_from(std::string_view pattern, std::size_t p, std::string_view name, std::size_t n) {
    while (p < pattern.size()) {
        char c = pattern[p];
        if (c == '*') {
            while (p < pattern.size() && pattern[p] == '*')
                ++p;
            for (std::size_t k = n; k <= name.size(); ++k)
                if (match_from(pattern, p, name, k)) return true;
            return false;
        }
        if (n >= name.size()) return false;
        if (c == '?') {
            ++p;
            ++n;
        } else if (c == '[') {
            auto matched = match_class(pattern, p, name[n]);
            if (!matched) fail("bad pattern " + std::string(pattern));
            if (!*matched) return false;
            ++n;
        } else {
            if (c == '\\') {
                if (++p >= pattern.size()) fail("bad pattern " + std::string(pattern));
                c = pattern[p];
            }
            if (c != name[n]) return false;
            ++p;
            ++n;
        }
    }
    return n == name.size();
}

// Finds malformed classes and trailing escapes up front, as Go does on first use.
void validate_component(std::string_view pattern) {
    for (std::size_t i = 0; i < pattern.size();) {
        if (pattern[i] == '\\') {
            if (i + 1 >= pattern.size()) fail("bad pattern " + std::string(pattern));
            i += 2;
        } else if (pattern[i] == '[') {
            if (!match_class(pattern, i, 'a')) fail("bad pattern " + std::string(pattern));
        } else {
            ++i;
        }
    }
}

bool match_components(const std::vector<std::string>& pattern, std::size_t p,
                      const std::vector<std::string>& path, std::size_t n, std::size_t end) {
    if (p == pattern.size()) return n == end;
    if (pattern[p] == "**") {
        for (std::size_t k = n; k <= end; ++k)
            if (match_components(pattern, p + 1, path, k, end)) return true;
        return false;
    }
    return n < end && match_component(pattern[p], path[n]) &&
           match_components(pattern, p + 1, path, n + 1, end);
}

} // namespace

bool match_component(std::string_view pattern, std::string_view name) {
    return match_from(pattern, 0, name, 0);
}

std::string clean_relative_path(std::string_view path) {
    std::vector<std::string> kept;
    for (const auto& part : split(path, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!kept.empty()) kept.pop_back();
            continue;
        }
        kept.push_back(part);
    }
    std::string out;
    for (const auto& part : kept)
        out += (out.empty() ? "" : "/") + part;
    return out;
}

IgnoreRules::IgnoreRules(std::string_view text) {
    for (const auto& raw : split_lines(text)) {
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        Pattern pattern;
        if (line.front() == '!') {
            pattern.exception = true;
            line = trim(line.substr(1));
            has_exceptions_ = true;
        }
        std::string cleaned = clean_relative_path(line);
        if (cleaned.empty()) continue; // "." or "/": nothing Docker would match either
        pattern.components = split(cleaned, '/');
        for (const auto& component : pattern.components)
            if (component != "**") validate_component(component);
        patterns_.push_back(std::move(pattern));
    }
}

bool IgnoreRules::excluded(std::string_view path) const {
    if (patterns_.empty()) return false;
    std::vector<std::string> components = split(clean_relative_path(path), '/');
    bool result = false;
    for (const auto& pattern : patterns_) {
        if (pattern.exception != result) continue; // cannot change the answer
        // The pattern matches the path or one of its parent directories.
        for (std::size_t end = 1; end <= components.size(); ++end) {
            if (match_components(pattern.components, 0, components, 0, end)) {
                result = !pattern.exception;
                break;
            }
        }
    }
    return result;
}

} // namespace berth::build
