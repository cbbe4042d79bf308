// `berth commit`: a container's changes (its overlay upper) as a new layer
// on its image, with the container's command, environment and the like as
// the new image's config, as `docker commit` makes it.
#include "berth/engine/engine.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/user_namespace.h"
#include "berth/image/archive.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_diff.h"
#include "berth/runtime/runtime.h"
#include "container_runtime.h"

#include <fcntl.h>

namespace berth::engine {

namespace {

void set_env(std::vector<std::string>& env, const std::string& entry) {
    std::string key = entry.substr(0, entry.find('='));
    for (auto& existing : env)
        if (existing.substr(0, existing.find('=')) == key) {
            existing = entry;
            return;
        }
    env.push_back(entry);
}

// What `run` asked for on top of the image, as the new image's defaults.
void apply_request(oci::ContainerConfig& config, const RunRequest& request) {
    for (const auto& entry : request.env)
        set_env(config.env, entry);
    if (request.entrypoint_given) {
        config.entrypoint = request.entrypoint;
        config.cmd.clear();
    }
    if (!request.command.empty()) config.cmd = request.command;
    if (!request.workdir.empty()) config.working_dir = request.workdir;
    if (!request.user.empty()) config.user = request.user;
    for (const auto& [key, value] : request.options.labels)
        config.labels[key] = value;
}

std::string command_text(const RunRequest& request) {
    std::string text;
    for (const auto& part : request.entrypoint_given ? request.entrypoint : request.command)
        text += (text.empty() ? "" : " ") + part;
    return text;
}

} // namespace

std::string Engine::commit(const std::string& reference, const CommitOptions& options) {
    ContainerRecord record = get(reference);
    RunRequest request = this->request(record.id);
    std::string upper_path = container_dir(record.id) + "/upper";
    if (!path_exists(upper_path)) fail("container " + record.name + " has no filesystem to commit");

    image::StoreOptions store_options;
    store_options.root = options_.root;
    store_options.apply.preserve_ownership = !rootless();
    image::ImageStore store(store_options);
    image::Image base = store.resolve(record.image_id);

    // Docker's default: the container holds still while its files are read.
    bool froze = false;
    auto runtime = runtime_of_container(options_.run_root, record);
    if (options.pause && record.state == ContainerState::running && !record.paused) {
        try {
            runtime->pause(record.id);
            froze = true;
        } catch (const Error&) {
            // A rootless container may have no cgroup to freeze (podman
            // commits those unpaused too); root's always has one.
            if (!rootless()) throw;
        }
    }
    image::StoredLayer layer;
    try {
        UniqueFd upper = open_fd(upper_path, O_RDONLY | O_DIRECTORY);
        image::LayerDiffOptions diff_options;
        // Mount targets berth made, not the container's own changes.
        diff_options.excluded = {"etc/hostname", "etc/hosts", "etc/resolv.conf",
                                 "sbin/docker-init"};
        std::string scratch = options_.root + "/tmp";
        make_directories(scratch, 0700);
        layer = image::store_layer_from_upper(store.blobs(), upper.get(), scratch, diff_options);
    } catch (...) {
        if (froze) runtime->resume(record.id);
        throw;
    }
    if (froze) runtime->resume(record.id);

    oci::ImageConfig config = base.config;
    apply_request(config.config, request);
    for (const auto& change : options.changes)
        image::apply_change(config.config, change);
    config.created = image::creation_time();
    if (!options.author.empty()) config.author = options.author;
    config.diff_ids.push_back(layer.layer.digest); // uncompressed: the digest is the diffID
    config.history.push_back(
        {config.created, command_text(request), options.author, options.message, false});
    std::vector<oci::Descriptor> layers = base.manifest.layers;
    layers.push_back(layer.layer);
    std::vector<std::string> names;
    if (!options.name.empty()) names.push_back(options.name);
    return store.add_from_parts(oci::image_config_to_json(config), layers, names).id.str();
}

} // namespace berth::engine
