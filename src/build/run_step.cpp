// RUN: the command in a real container of the engine, on an overlay of the
// stage's layers; the layer is what it changed (the diff of its upper).
#include "build_steps.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/image/layer_diff.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace berth::build::detail {

namespace {

// The files the runtime creates as mount targets when the image lacks them:
// empty placeholders, not the command's own changes.
const std::set<std::string> mount_placeholders = {"etc/hosts", "etc/hostname", "etc/resolv.conf"};

std::set<std::string> placeholders_in(int upper_fd) {
    std::set<std::string> found;
    for (const auto& path : mount_placeholders) {
        struct stat info {};
        if (::fstatat(upper_fd, path.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(info.st_mode) && info.st_size == 0)
            found.insert(path);
    }
    return found;
}

bool is_empty_directory(int dir_fd) {
    UniqueFd copy(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!copy) return false;
    DIR* dir = ::fdopendir(copy.release());
    if (!dir) return false;
    bool empty = true;
    while (dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            empty = false;
            break;
        }
    }
    ::closedir(dir);
    return empty;
}

bool is_opaque(int dir_fd) {
    char value[2];
    return ::fgetxattr(dir_fd, "trusted.overlay.opaque", value, sizeof value) > 0 &&
           value[0] == 'y';
}

// The mount points the runtime made for RUN --mount targets (an empty file
// or directory, and the empty directories above it) are not the command's
// changes: what it wrote there went into the mount. Removed from the upper
// so that the layer does not carry them (BuildKit's layers do not either).
void remove_mount_points(int upper_fd, const std::vector<std::string>& targets) {
    for (const auto& target : targets) {
        std::vector<std::string> parts;
        for (std::size_t start = 0; start < target.size();) {
            std::size_t slash = target.find('/', start);
            if (slash == std::string::npos) slash = target.size();
            if (slash > start) parts.push_back(target.substr(start, slash - start));
            start = slash + 1;
        }
        if (parts.empty()) continue;
        // Directories from the upper's root down to the target's parent.
        std::vector<UniqueFd> dirs;
        dirs.emplace_back(::openat(upper_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
            int fd = ::openat(dirs.back().get(), parts[i].c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) break;
            dirs.emplace_back(fd);
        }
        if (dirs.size() != parts.size()) continue; // the target's parent is not in the upper
        struct stat info {};
        int parent = dirs.back().get();
        const char* name = parts.back().c_str();
        if (::fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISREG(info.st_mode) && info.st_size == 0) {
                ::unlinkat(parent, name, 0);
            } else if (S_ISDIR(info.st_mode)) {
                UniqueFd dir(
                    ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!dir || !is_empty_directory(dir.get()) || is_opaque(dir.get())) continue;
                ::unlinkat(parent, name, AT_REMOVEDIR);
            } else {
                continue;
            }
        }
        // Then each parent left empty, from the deepest up.
        for (std::size_t i = dirs.size() - 1; i > 0; --i) {
            if (!is_empty_directory(dirs[i].get()) || is_opaque(dirs[i].get())) break;
            if (::unlinkat(dirs[i - 1].get(), parts[i - 1].c_str(), AT_REMOVEDIR) < 0) break;
        }
    }
}

// Sends the container's output to /dev/null while it lives (berth build -q).
class QuietOutput {
  public:
    explicit QuietOutput(bool quiet) {
        if (!quiet) return;
        std::fflush(stdout);
        saved_out_ = UniqueFd(::fcntl(1, F_DUPFD_CLOEXEC, 3));
        saved_err_ = UniqueFd(::fcntl(2, F_DUPFD_CLOEXEC, 3));
        UniqueFd null = open_fd("/dev/null", O_WRONLY);
        ::dup2(null.get(), 1);
        ::dup2(null.get(), 2);
    }
    ~QuietOutput() {
        if (saved_out_) ::dup2(saved_out_.get(), 1);
        if (saved_err_) ::dup2(saved_err_.get(), 2);
    }

  private:
    UniqueFd saved_out_, saved_err_;
};

} // namespace

oci::Descriptor run_step(engine::Engine& engine, const StoreAccess& store, const image::Image& base,
                         const RunSpec& spec) {
    engine::RunRequest request;
    request.image = base.manifest_digest.str();
    request.entrypoint_given = true; // the image's ENTRYPOINT and CMD do not apply
    request.command = spec.args;
    request.env = spec.env;
    request.workdir = spec.workdir;
    request.user = spec.user;
    request.network = spec.network.empty() ? "bridge" : spec.network;
    request.options.mounts = spec.mounts;
    engine::ContainerRecord container = engine.create(request);
    auto remove = [&] {
        try {
            engine.remove(container.id, true);
        } catch (const Error&) {
        }
    };
    try {
        int exit_code = 0;
        {
            QuietOutput quiet(spec.quiet);
            store.close();
            engine::Attachment attachment = engine.start(container.id, true);
            attachment.wait_started();
            exit_code = attachment.stream_until_exit();
        }
        engine.wait(container.id); // the monitor is done: nothing writes to the upper
        if (exit_code != 0)
            throw RunStepFailed(
                "did not complete successfully: exit code " + std::to_string(exit_code), exit_code);
        std::string dir = engine.container_dir(container.id);
        UniqueFd upper = open_fd(dir + "/upper", O_RDONLY | O_DIRECTORY);
        image::LayerDiffOptions options;
        options.clamp_mtime = spec.clamp_mtime;
        remove_mount_points(upper.get(), spec.mount_targets);
        options.excluded = placeholders_in(upper.get());
        auto stored =
            image::store_layer_from_upper(store.open().blobs(), upper.get(), dir, options);
        for (const auto& path : options.excluded)
            ::unlinkat(upper.get(), path.c_str(), 0);
        adopt_as_snapshot(store.open(), base, stored, dir + "/upper");
        remove();
        return stored.layer;
    } catch (const engine::StartError& error) {
        remove();
        throw RunStepFailed(error.what(), error.exit_code());
    } catch (...) {
        remove();
        throw;
    }
}

} // namespace berth::build::detail
