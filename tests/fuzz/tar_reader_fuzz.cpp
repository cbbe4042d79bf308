// Fuzz target: layer tarballs come from any registry. Reading any bytes as
// a tar archive must end in entries or a berth::Error, never a crash, a
// hang or unbounded memory.
#include "berth/base/error.h"
#include "berth/image/tar_reader.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    berth::image::MemorySource source(std::string_view(reinterpret_cast<const char*>(data), size));
    berth::image::TarReader reader(source);
    try {
        berth::image::TarEntry entry;
        char buffer[4096];
        int entries = 0;
        while (reader.next(entry) && ++entries < 10000)
            while (reader.read_data(buffer, sizeof buffer)) {
            }
    } catch (const berth::Error&) {
    }
    return 0;
}
