// ADD/COPY source forms: URLs, git repositories, checksums, HTTP dates.
#include "berth/build/add_source.h"

#include "berth/base/error.h"
#include "berth/build/build_context.h"

#include <array>
#include <cctype>
#include <ctime>

namespace berth::build {

namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    return true;
}

std::string_view url_path(std::string_view url) {
    auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return {};
    std::string_view rest = url.substr(scheme + 3);
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return {};
    rest = rest.substr(slash);
    auto end = rest.find_first_of("?#");
    return rest.substr(0, end);
}

} // namespace

bool is_git_url(std::string_view source) {
    if (starts_with_nocase(source, "git@") || starts_with_nocase(source, "git://") ||
        starts_with_nocase(source, "ssh://"))
        return true;
    if (!starts_with_nocase(source, "http://") && !starts_with_nocase(source, "https://"))
        return false;
    std::string_view path = url_path(source);
    while (!path.empty() && path.back() == '/')
        path.remove_suffix(1);
    return path.ends_with(".git");
}

bool is_remote_url(std::string_view source) {
    return (starts_with_nocase(source, "http://") || starts_with_nocase(source, "https://")) &&
           !is_git_url(source);
}

oci::Digest parse_checksum(std::string_view text) {
    std::string value(text);
    if (!value.starts_with("sha256:") || value.size() != 7 + 64)
        fail("--checksum=" + value + ": expected sha256: and 64 hex digits");
    for (char c : value.substr(7))
        if (!std::isxdigit(static_cast<unsigned char>(c)) ||
            std::isupper(static_cast<unsigned char>(c)))
            fail("--checksum=" + value + ": expected sha256: and 64 lower-case hex digits");
    return oci::Digest::parse(value);
}

std::string url_file_name(std::string_view url) {
    std::string_view path = url_path(url);
    auto slash = path.rfind('/');
    std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (name == "." || name == "..") return "";
    return std::string(name);
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    std::string value(text);
    std::tm when{};
    for (const char* format :
         {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
        when = std::tm{};
        const char* end = ::strptime(value.c_str(), format, &when);
        if (end && *end == '\0') {
            std::time_t seconds = ::timegm(&when);
            if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
            return static_cast<std::int64_t>(seconds);
        }
    }
    return std::nullopt;
}

std::pair<std::string, std::string> split_parents_pivot(std::string_view source) {
    std::string text(source);
    auto pivot = text.find("/./");
    if (pivot == std::string::npos) return {"", confined_path(text, "COPY --parents " + text)};
    std::string base = confined_path(text.substr(0, pivot), "COPY --parents " + text);
    std::string rest = confined_path(text.substr(pivot + 3), "COPY --parents " + text);
    return {base, rest};
}

} // namespace berth::build
