// Fuzz target: the values of -v, --mount, --tmpfs, --ulimit, --restart,
// --label, --cpuset-cpus and --health-* durations come from the user's command line, and
// --env-file's text from a file. Any bytes
// must end in a parsed value or a berth::Error, never a crash or a hang.
// The first byte picks the parser.
#include "../../src/cli/run_option_flags.h"
#include "berth/base/error.h"
#include "berth/engine/container_options.h"
#include "berth/engine/healthcheck.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch (data[0] % 8) {
        case 0:
            berth::engine::parse_volume_flag(text);
            break;
        case 1:
            berth::engine::parse_mount_flag(text);
            break;
        case 2:
            berth::engine::parse_tmpfs_flag(text);
            break;
        case 3:
            berth::engine::parse_ulimit(text);
            break;
        case 4:
            berth::engine::parse_restart_policy(text);
            break;
        case 5:
            berth::engine::parse_label(text);
            break;
        case 7:
            berth::engine::parse_go_duration(text, "--health-interval");
            break;
        default:
            berth::engine::check_cpuset(text);
            break;
        }
    } catch (const berth::Error&) {
    }
    return 0;
}
