// Fuzz target: manifests, indexes, image configs and references come from
// registries and archives. Parsing any bytes must give a document or a
// berth::Error, never a crash.
#include "berth/base/error.h"
#include "berth/oci/image_spec.h"
#include "berth/oci/reference.h"

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
    attempt([&] {
        auto manifest = berth::oci::parse_manifest(text);
        berth::oci::parse_manifest(berth::oci::manifest_to_json(manifest));
    });
    attempt([&] { berth::oci::parse_index(text); });
    attempt([&] {
        auto config = berth::oci::parse_image_config(text);
        berth::oci::chain_ids(config.diff_ids);
    });
    attempt([&] { berth::oci::parse_reference(text.substr(0, 600)); });
    return 0;
}
