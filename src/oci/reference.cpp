#include "berth/oci/reference.h"

#include "berth/base/error.h"

#include <cctype>

namespace berth::oci {

namespace {

constexpr std::string_view default_domain = "docker.io";
constexpr std::string_view official_prefix = "library/";

bool is_alnum_lower(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// One path component: lowercase alphanumerics joined by ".", "_", "__" or dashes.
bool valid_component(std::string_view part) {
    if (part.empty() || !is_alnum_lower(part.front()) || !is_alnum_lower(part.back())) return false;
    for (std::size_t i = 0; i < part.size(); ++i) {
        char c = part[i];
        if (is_alnum_lower(c)) continue;
        if (c == '-') continue;
        if (c == '.' || c == '_') {
            // A separator must sit between alphanumerics ("__" is allowed as one).
            if (!is_alnum_lower(part[i - 1]) && !(c == '_' && part[i - 1] == '_')) return false;
            continue;
        }
        return false;
    }
    return true;
}

bool valid_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > 128) return false;
    auto word = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    };
    if (!word(tag[0])) return false;
    for (char c : tag)
        if (!word(c) && c != '.' && c != '-') return false;
    return true;
}

// "registry.example.com", "localhost:5000", "10.0.0.1:5000": dot-separated
// alphanumeric labels (dashes inside), then an optional numeric port.
bool valid_domain(std::string_view domain) {
    std::string_view host = domain.substr(0, domain.rfind(':'));
    if (host.size() != domain.size()) {
        std::string_view port = domain.substr(host.size() + 1);
        if (port.empty() || port.size() > 5) return false;
        for (char c : port)
            if (c < '0' || c > '9') return false;
    }
    auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    std::size_t start = 0;
    while (true) {
        auto dot = host.find('.', start);
        std::string_view label =
            host.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (label.empty() || !alnum(label.front()) || !alnum(label.back())) return false;
        for (char c : label)
            if (!alnum(c) && c != '-') return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

} // namespace

Reference parse_reference(std::string_view text) {
    std::string shown(text.substr(0, 256));
    auto invalid = [&](const std::string& why) -> Reference {
        fail("invalid reference \"" + shown + "\": " + why);
    };
    if (text.empty()) return invalid("empty");
    if (text.size() > 512) return invalid("longer than 512 characters");

    Reference reference;
    std::string_view rest = text;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        std::string_view digest = rest.substr(at + 1);
        if (!Digest::is_valid(digest)) return invalid("the digest after @ must be sha256:<64 hex>");
        reference.digest = Digest::parse(digest);
        rest = rest.substr(0, at);
    }
    // A tag follows the last ":" that comes after the last "/" (a ":" before
    // it belongs to a registry's port).
    auto last_slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos &&
        (last_slash == std::string_view::npos || colon > last_slash)) {
        reference.tag = std::string(rest.substr(colon + 1));
        if (!valid_tag(reference.tag))
            return invalid("tag \"" + reference.tag + "\": use letters, digits, _ . - (max 128)");
        rest = rest.substr(0, colon);
    }

    auto first_slash = rest.find('/');
    std::string_view first = rest.substr(0, first_slash);
    if (first_slash != std::string_view::npos &&
        (first.find_first_of(".:") != std::string_view::npos || first == "localhost")) {
        if (!valid_domain(first)) return invalid("bad registry name");
        reference.domain = std::string(first);
        rest = rest.substr(first_slash + 1);
    } else {
        reference.domain = std::string(default_domain);
    }
    if (rest.empty()) return invalid("no repository name");
    std::string_view components = rest;
    while (true) {
        auto slash = components.find('/');
        if (!valid_component(components.substr(0, slash)))
            return invalid("repository names are lowercase letters, digits and . _ - separators");
        if (slash == std::string_view::npos) break;
        components = components.substr(slash + 1);
    }
    reference.repository = std::string(rest);
    if (reference.domain == default_domain && rest.find('/') == std::string_view::npos)
        reference.repository = std::string(official_prefix) + reference.repository;
    if (reference.tag.empty() && !reference.digest) reference.tag = "latest";
    return reference;
}

std::string Reference::familiar_name() const {
    if (domain != default_domain) return name();
    std::string_view path = repository;
    if (path.substr(0, official_prefix.size()) == official_prefix &&
        path.find('/', official_prefix.size()) == std::string_view::npos)
        path.remove_prefix(official_prefix.size());
    return std::string(path);
}

std::string Reference::familiar_string() const {
    std::string out = familiar_name();
    if (!tag.empty()) out += ":" + tag;
    if (digest) out += "@" + digest->str();
    return out;
}

std::pair<std::string, std::string> familiar_repository_and_tag(std::string_view tagged_name) {
    Reference reference = parse_reference(tagged_name);
    return {reference.familiar_name(), reference.tag};
}

} // namespace berth::oci
