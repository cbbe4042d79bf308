// A tree beneath a directory fd as tar entries (export, `cp CONTAINER:PATH -`),
// level by level with O_NOFOLLOW: a symlink in the container is archived as
// a symlink, never followed.
#pragma once

#include "berth/image/tar_writer.h"

#include <string>

namespace berth::engine {

// The entry `name` of `dir` (and all below it, for a directory) as `prefix` + name.
void write_tree_entry(image::TarWriter& tar, int dir, const std::string& name,
                      const std::string& prefix);
// Every entry below `dir`, named `prefix` + its path.
void write_tree(image::TarWriter& tar, int dir, const std::string& prefix);

} // namespace berth::engine
