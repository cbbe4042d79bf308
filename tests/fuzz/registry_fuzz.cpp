// Fuzz target: what registries send and what users keep on disk about them:
// WWW-Authenticate challenges, credential files (docker's config.json,
// podman's auth.json) and --platform values. Any bytes give a result or a
// berth::Error, never a crash.
#include "berth/base/error.h"
#include "berth/oci/platform.h"
#include "berth/registry/challenge.h"
#include "berth/registry/credentials.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto attempt = [](auto&& parse) {
        try {
            parse();
        } catch (const berth::Error&) {
        }
    };
    attempt([&] { berth::registry::parse_www_authenticate(text); });
    attempt([&] {
        berth::registry::credentials_in(text, "docker.io");
        berth::registry::credentials_in(text, "localhost:5000");
    });
    attempt([&] {
        auto written = berth::registry::with_credentials(text, "a.example",
                                                         berth::registry::Credentials{"u", "p"});
        berth::registry::credentials_in(written, "a.example");
    });
    attempt([&] { berth::registry::base64_decode(text); });
    attempt([&] { berth::oci::parse_platform(text.substr(0, 200)); });
    return 0;
}
