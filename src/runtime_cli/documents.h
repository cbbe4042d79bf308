// The JSON documents berth-runtime prints: `spec`'s starting config.json and
// `features`' description of what this runtime supports.
#pragma once

#include <string>

namespace berth::runtime_cli {

// A config.json like runc's `spec` writes: busybox-friendly, sh in a terminal.
std::string default_spec(bool rootless, unsigned uid, unsigned gid);

std::string features_document();

} // namespace berth::runtime_cli
