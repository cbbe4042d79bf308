// Image references as users type them ("busybox", "busybox:1.36",
// "registry.example:5000/team/app@sha256:..."), normalized the way Docker
// does, so "busybox" and "docker.io/library/busybox:latest" are one image.
#pragma once

#include "berth/oci/digest.h"

#include <optional>
#include <string>
#include <string_view>

namespace berth::oci {

struct Reference {
    std::string domain;     // "docker.io"
    std::string repository; // "library/busybox"
    std::string tag;        // empty when only a digest was given
    std::optional<Digest> digest;

    // "docker.io/library/busybox"
    std::string name() const { return domain + "/" + repository; }
    // "docker.io/library/busybox:latest", the key of the image index.
    std::string tagged_name() const { return name() + ":" + (tag.empty() ? "latest" : tag); }
    // "busybox" for Docker Hub's library, the full name elsewhere (`docker images`).
    std::string familiar_name() const;
    // Everything given: "busybox:1.36@sha256:..." in familiar form.
    std::string familiar_string() const;
};

// Throws Error saying what is wrong with `text`. A missing tag and digest
// means ":latest".
Reference parse_reference(std::string_view text);

// The familiar form of a stored tagged name ("docker.io/library/busybox:latest"
// -> "busybox", "latest"), for display.
std::pair<std::string, std::string> familiar_repository_and_tag(std::string_view tagged_name);

} // namespace berth::oci
