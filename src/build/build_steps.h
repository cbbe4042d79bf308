// The builder's steps, one file each: what a stage carries from step to
// step, and the instructions that change it.
#pragma once

#include "berth/build/build_context.h"
#include "berth/build/builder.h"
#include "berth/build/dockerfile.h"
#include "berth/build/shell_words.h"
#include "berth/engine/engine.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_diff.h"
#include "berth/oci/image_spec.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::build::detail {

struct StageState {
    oci::ImageConfig config;
    std::vector<oci::Descriptor> layers;
    // The image in the store equal to this state, once committed.
    std::optional<image::Image> committed;
    // The key of the last step, the parent of the next one's.
    oci::Digest cache_key;
    // ARGs declared in this stage, with their values (nullopt: declared, unset).
    std::map<std::string, std::optional<std::string>> args;
    bool cmd_set = false; // CMD given in this stage (ENTRYPOINT then keeps it)
};

std::optional<std::string> env_value(const std::vector<std::string>& env, const std::string& name);
void set_env(std::vector<std::string>& env, const std::string& name, const std::string& value);

// The shell form of RUN, CMD and ENTRYPOINT: SHELL's, else /bin/sh -c.
std::vector<std::string> shell_of(const oci::ContainerConfig& config);

// ENV, LABEL, MAINTAINER, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, CMD,
// ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD: a change of the config only.
void apply_config_instruction(StageState& state, const Instruction& instruction,
                              const VariableLookup& lookup, char escape);

struct RunSpec {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string workdir;
    std::string user;
    std::string network; // "bridge", "none", "host"
    bool quiet = false;
    std::optional<std::int64_t> clamp_mtime;
    // RUN --mount: what the engine mounts, and the targets (absolute) whose
    // mount points the runtime may have made in the upper, removed before
    // the diff so that they never reach the layer.
    std::vector<engine::MountRequest> mounts;
    std::vector<std::string> mount_targets;
};

// The store, opened on demand, and closed before a container's monitor is
// forked (SQLite connections must not cross a fork).
struct StoreAccess {
    std::function<image::ImageStore&()> open;
    std::function<void()> close;
};

// Runs the command in a container of `base` and returns the layer of its
// changes. RunStepFailed when it exits non-zero.
oci::Descriptor run_step(engine::Engine& engine, const StoreAccess& store, const image::Image& base,
                         const RunSpec& spec);

// Makes the upper directory whose diff is `stored` the new layer's snapshot
// (a rename, not a second unpack of the layer); a no-op when it cannot be.
void adopt_as_snapshot(image::ImageStore& store, const image::Image& base,
                       const image::StoredLayer& stored, const std::string& upper);

struct CopySource {
    const SourceTree* tree = nullptr;
    std::string path; // "" for the tree's root
    bool extract = false;
    // COPY --parents: the path it gets beneath the destination ("" without).
    std::string keep_path;
};

struct InlineFile {
    std::string name;
    std::string content;
};

struct CopySpec {
    std::vector<CopySource> sources;
    std::vector<InlineFile> inline_files; // COPY <<EOF /dest
    std::string destination;              // absolute
    bool destination_is_directory = false;
    std::string chown; // "" for root
    std::optional<std::uint32_t> chmod;
    std::optional<std::int64_t> clamp_mtime;
};

// A COPY's work directory on a tmpfs of its own (false if it cannot be
// mounted): its files cost no inode on the store's disk, which matters
// when the layer turns out to be one the store has (a --no-cache rebuild),
// and go at once with the unmount. A new layer's snapshot is then unpacked
// from its blob when a later step mounts it (a rename cannot cross
// filesystems), so a COPY costs no more files on disk than before.
bool mount_scratch_tmpfs(const std::string& work_dir);
// Unmounts the work directory's tmpfs, if any, and removes it.
void remove_work_dir(const std::string& work_dir);

// Copies into an overlay of `base` under `work_dir` and returns the layer.
oci::Descriptor copy_step(image::ImageStore& store, const image::Image& base,
                          const std::string& work_dir, const CopySpec& spec);

} // namespace berth::build::detail
