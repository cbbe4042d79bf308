// Taking a container apart once its processes have stopped, in the order
// that never strands anything: runtime state and cgroup, then the rootfs
// mount, then (for rm) its files and its row.
#pragma once

#include "berth/image/database.h"

#include <string>

namespace berth::engine {

// The engine's run root, of which the runtime's root is the "runtime" folder.
std::string run_root_of(const std::string& runtime_root);

// The OCI runtime the container's record names ("berth" if none, or no record).
std::string container_runtime_name(image::Database& database, const std::string& id);

// Deletes the runtime's state (killing what is left) and the cgroup, takes
// its network apart (veths, addresses, rules, netns file), and unmounts the rootfs. Every step runs
// even if one before failed; the first failure is rethrown at the end.
void release_container(image::Database& database, const std::string& runtime_root,
                       const std::string& id, const std::string& container_dir);

// release_container, then discard_container_files.
std::string delete_container_files(image::Database& database, const std::string& runtime_root,
                                   const std::string& id, const std::string& container_dir);

// For a released container: its network rows go, and its directory (upper
// layer, logs, bundle) leaves its place with one rename into the root's
// trash, for empty_trash to delete. Returns its place in the trash
// (<root>/trash/<id>).
std::string discard_container_files(image::Database& database, const std::string& id,
                                    const std::string& container_dir);

// Deletes `discarded` (what delete_container_files returned), then what
// killed processes left in the trash more than a minute ago: a thousand
// `rm` at once each delete their own, never each other's.
// Deleting a tree costs ~3 ms per directory on a filesystem mounted with
// `discard`; a `run --rm` need not wait for it, so its monitor empties the
// trash only after it has reported the exit.
void empty_trash(const std::string& discarded);

} // namespace berth::engine
