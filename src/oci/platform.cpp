#include "berth/oci/platform.h"

#include "berth/base/error.h"

namespace berth::oci {

namespace {

bool valid_word(std::string_view word) {
    if (word.empty() || word.size() > 32) return false;
    for (char c : word)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

// arm64's only variant is v8, which images often leave out.
std::string normal_variant(const Platform& platform) {
    if (platform.architecture == "arm64" && platform.variant == "v8") return "";
    return platform.variant;
}

} // namespace

Platform parse_platform(std::string_view text) {
    std::vector<std::string_view> parts;
    std::string_view rest = text;
    while (true) {
        auto slash = rest.find('/');
        parts.push_back(rest.substr(0, slash));
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    if (parts.size() > 3)
        fail("invalid platform \"" + std::string(text.substr(0, 100)) +
             "\": use os/arch[/variant]");
    for (auto part : parts)
        if (!valid_word(part))
            fail("invalid platform \"" + std::string(text.substr(0, 100)) +
                 "\": use os/arch[/variant]");
    Platform platform;
    if (parts.size() == 1) {
        platform.os = "linux";
        platform.architecture = parts[0];
    } else {
        platform.os = parts[0];
        platform.architecture = parts[1];
        if (parts.size() == 3) platform.variant = parts[2];
    }
    return platform;
}

std::string platform_string(const Platform& platform) {
    std::string text = platform.os + "/" + platform.architecture;
    if (!platform.variant.empty()) text += "/" + platform.variant;
    return text;
}

std::optional<Descriptor> choose_platform(const Index& index, const Platform& wanted) {
    std::optional<Descriptor> fallback;
    for (const auto& descriptor : index.manifests) {
        if (!is_manifest_type(descriptor.media_type) || !descriptor.platform) continue;
        const Platform& offered = *descriptor.platform;
        if (offered.os != wanted.os || offered.architecture != wanted.architecture) continue;
        std::string offered_variant = normal_variant(offered);
        std::string wanted_variant = normal_variant(wanted);
        if (!wanted_variant.empty()) {
            if (offered_variant == wanted_variant) return descriptor;
            continue;
        }
        if (offered_variant.empty()) return descriptor;
        if (!fallback) fallback = descriptor;
    }
    return fallback;
}

} // namespace berth::oci
