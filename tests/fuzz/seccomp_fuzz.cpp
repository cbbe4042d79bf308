// Fuzz target: linux.seccomp comes from whoever wrote the bundle. Compiling
// any JSON must end in a Filter or a berth::Error, never a crash, hang or leak.
#include "berth/base/error.h"
#include "berth/runtime/seccomp.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nlohmann::json seccomp = nlohmann::json::parse(data, data + size, nullptr, false);
    if (seccomp.is_discarded()) return 0;
    try {
        berth::runtime::seccomp::Filter::compile(seccomp);
    } catch (const berth::Error&) {
    }
    return 0;
}
