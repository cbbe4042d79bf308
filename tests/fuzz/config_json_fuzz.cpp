// Fuzz target: config.json comes from whoever wrote the bundle. Parsing any
// bytes must end in a Spec or a berth::Error, never a crash, hang or leak.
#include "berth/base/error.h"
#include "berth/oci/runtime_spec.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        berth::oci::parse_spec(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const berth::Error&) {
    }
    return 0;
}
