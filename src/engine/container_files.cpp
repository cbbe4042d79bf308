#include "berth/engine/container_files.h"

namespace berth::engine {

std::string pause_hint_path(const std::string& container_dir) {
    return container_dir + "/maybe-paused";
}

std::string process_args_path(const std::string& container_dir) {
    return container_dir + "/process-args.json";
}

} // namespace berth::engine
