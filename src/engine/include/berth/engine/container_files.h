// Small files in a container's directory that spare commands a costly read
// (`ps` lists a thousand containers in well under 100 ms with them).
#pragma once

#include <string>

namespace berth::engine {

// Left by `pause` (before it freezes) and removed by `unpause` (after it
// thaws) and by a new run: `ps` asks the runtime whether a container is
// frozen only where this exists, not for every running container.
std::string pause_hint_path(const std::string& container_dir);

// The container's process args (ENTRYPOINT + CMD resolved) as a JSON array,
// written with config.json: `ps` reads this rather than config.json (~20 KB
// with the seccomp profile).
std::string process_args_path(const std::string& container_dir);

} // namespace berth::engine
