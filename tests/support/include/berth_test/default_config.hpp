// The baseline OCI runtime configuration used by test bundles.
#pragma once

#include <nlohmann/json.hpp>

namespace berth_test {

// A config.json equivalent to what `runc spec` generates (OCI 1.0.2), with
// these differences so it suits non-interactive tests: terminal is false, the
// hostname is "berth-test", and there is no cgroup namespace and no
// /sys/fs/cgroup mount. Root is "rootfs", read-only.
nlohmann::json default_config();

} // namespace berth_test
