// Volumes and the mounts of -v, --mount and --tmpfs: Engine's volume
// commands, and the container's mounts made at create.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/engine/engine.h"
#include "berth/engine/identity.h"
#include "tree_copy.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::engine {

namespace {

using nlohmann::json;

std::vector<std::string> users_of(ContainerStore& containers, const std::string& name) {
    std::vector<std::string> ids;
    for (const auto& record : containers.list()) {
        json config = json::parse(record.config_json, nullptr, false);
        if (!config.is_object()) continue;
        RunRequest request = run_request_from_json(config);
        for (const auto& mount : request.options.mounts)
            if (mount.type == "volume" && mount.source == name) {
                ids.push_back(record.id);
                break;
            }
    }
    return ids;
}

void delete_volume(VolumeStore& volumes, const std::string& root, const std::string& name) {
    // The row first: a volume half-deleted on disk is never handed out again.
    volumes.remove(name);
    std::string dir = volume_directory(root, name);
    if (path_exists(dir)) remove_tree(dir);
}

// Fills a new volume with what the image has at `target`, resolved inside
// the rootfs: a symlink in the image never leads the copy out of it.
void fill_from_image(const std::string& rootfs, const std::string& target,
                     const std::string& data_dir) {
    UniqueFd root = open_fd(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int fd = openat2_in_root(root.get(), target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return; // nothing there to copy
        throw_errno("opening " + target + " in the image");
    }
    UniqueFd source(fd);
    UniqueFd data = open_fd(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    copy_directory_attributes(source.get(), data.get());
    copy_tree_contents(source.get(), data.get());
}

json oci_mount(const MountRequest& mount, const std::string& source) {
    std::vector<std::string> options;
    std::string type = mount.type == "tmpfs" ? "tmpfs" : "bind";
    if (type == "bind") {
        options = {"rbind", mount.propagation.empty() ? "rprivate" : mount.propagation};
    } else {
        options = mount.tmpfs_options;
        // --mount type=tmpfs gets Docker's safe defaults too.
        for (const char* flag : {"nosuid", "nodev", "noexec"})
            if (std::find(options.begin(), options.end(), flag) == options.end() &&
                std::find(options.begin(), options.end(), std::string(flag + 2)) == options.end())
                options.push_back(flag);
        std::erase_if(
            options, [](const std::string& o) { return o == "exec" || o == "suid" || o == "dev"; });
    }
    if (mount.read_only) options.push_back("ro");
    return {{"destination", mount.target},
            {"type", type},
            {"source", type == "tmpfs" ? std::string("tmpfs") : source},
            {"options", options}};
}

} // namespace

void remove_anonymous_volumes(image::Database& database, const std::string& root,
                              const RunRequest& request) {
    auto anonymous = [](const auto& mount) {
        return mount.type == "volume" && mount.anonymous && !mount.source.empty();
    };
    // Most containers have none: no stores to open (each checks its schema).
    if (std::none_of(request.options.mounts.begin(), request.options.mounts.end(), anonymous))
        return;
    try {
        ContainerStore containers(database);
        VolumeStore volumes(database);
        for (const auto& mount : request.options.mounts) {
            if (!anonymous(mount)) continue;
            if (!users_of(containers, mount.source).empty()) continue;
            delete_volume(volumes, root, mount.source);
        }
    } catch (const std::exception&) {
        // A volume left behind is listed by `volume ls` and goes with `volume prune`.
    }
}

std::string Engine::volume_mountpoint(const std::string& name) const {
    return volume_directory(options_.root, name) + "/_data";
}

VolumeRecord Engine::create_volume(const std::string& given,
                                   const std::map<std::string, std::string>& labels) {
    VolumeRecord record;
    record.name = given.empty() ? new_container_id() : given;
    record.anonymous = given.empty();
    if (!is_valid_volume_name(record.name))
        fail("create " + record.name + ": \"" + record.name +
             "\" includes invalid characters for a local volume name, only "
             "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed");
    record.created = now_rfc3339_nano();
    record.labels = labels;
    // Docker's `volume create` of an existing name is no error: it returns that volume.
    make_directories(volume_mountpoint(record.name), 0755);
    if (!volumes().insert(record)) return *volumes().find(record.name);
    return record;
}

VolumeRecord Engine::get_volume(const std::string& name) {
    auto record = volumes().find(name);
    if (!record) fail("get " + name + ": no such volume");
    return *record;
}

std::vector<VolumeRecord> Engine::list_volumes() {
    return volumes().list();
}

std::vector<std::string> Engine::volume_users(const std::string& name) {
    return users_of(containers(), name);
}

void Engine::remove_volume(const std::string& name) {
    get_volume(name);
    auto users = volume_users(name);
    if (!users.empty()) {
        std::string list;
        for (const auto& id : users)
            list += (list.empty() ? "" : ", ") + id;
        fail("remove " + name + ": volume is in use - [" + list + "]");
    }
    delete_volume(volumes(), options_.root, name);
}

std::vector<std::string> Engine::prune_volumes(bool all) {
    std::vector<std::string> removed;
    for (const auto& record : volumes().list()) {
        if (!all && !record.anonymous) continue;
        if (!volume_users(record.name).empty()) continue;
        delete_volume(volumes(), options_.root, record.name);
        removed.push_back(record.name);
    }
    return removed;
}

void Engine::resolve_mounts(RunRequest& request) {
    std::set<std::string> targets;
    for (auto& mount : request.options.mounts) {
        if (!targets.insert(mount.target).second) fail("Duplicate mount point: " + mount.target);
        if (mount.type == "volume" && mount.source.empty()) mount.source = new_container_id();
        if (mount.type == "bind" && !mount.create_source) {
            struct stat st;
            if (::stat(mount.source.c_str(), &st) < 0)
                fail("invalid mount config for type \"bind\": bind source path does not exist: " +
                     mount.source);
        }
    }
}

json Engine::setup_mounts(const RunRequest& request, const std::string& rootfs,
                          std::vector<std::string>& created) {
    json mounts = json::array();
    for (const auto& mount : request.options.mounts) {
        std::string source = mount.source;
        if (mount.type == "bind" && mount.create_source && !path_exists(source)) {
            // Docker's -v makes a missing host directory (and --mount refuses, above).
            make_directories(source, 0755);
        } else if (mount.type == "volume") {
            VolumeRecord record;
            record.name = mount.source;
            record.anonymous = mount.anonymous;
            record.created = now_rfc3339_nano();
            std::string data = volume_mountpoint(mount.source);
            make_directories(data, 0755);
            if (volumes().insert(record)) {
                created.push_back(record.name);
                if (!mount.no_copy)
                    with_context("filling volume " + mount.source + " from the image at " +
                                     mount.target,
                                 [&] { fill_from_image(rootfs, mount.target, data); });
            }
            source = data;
        }
        mounts.push_back(oci_mount(mount, source));
    }
    return mounts;
}

void Engine::discard_volumes(const std::vector<std::string>& names) {
    for (const auto& name : names) {
        try {
            delete_volume(volumes(), options_.root, name);
        } catch (const std::exception&) {
        }
    }
}

} // namespace berth::engine
