// RUN --mount: the mounts' sources and their part of the cache key
// (Builder::collect_mounts), then what backs them while the step runs.
#include "run_mounts.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/rootfs.h"
#include "builder_internal.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::build::detail {

namespace {

// The host path of `path` beneath `root_fd`, resolved by the kernel inside
// the root (a symlink in the context cannot lead the bind outside it).
std::string host_path_beneath(int root_fd, const std::string& path, const std::string& what) {
    int fd = openat2_in_root(root_fd, path.empty() ? "." : path, O_PATH | O_CLOEXEC);
    if (fd < 0) throw_errno(what + ": " + (path.empty() ? "." : path));
    UniqueFd opened(fd);
    char link[4096];
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    ssize_t length = ::readlink(proc.c_str(), link, sizeof link - 1);
    if (length < 0) throw_errno("reading " + proc);
    return std::string(link, static_cast<std::size_t>(length));
}

// A directory made with its owner and mode before it gets its name, so
// that a crash never leaves one half set up.
void make_owned_directory(const std::string& path, const RunMount& mount) {
    std::string temporary = path + ".tmp-" + random_hex();
    if (::mkdir(temporary.c_str(), 0755) < 0) throw_errno("creating " + temporary);
    if (::chown(temporary.c_str(), mount.uid.value_or(0), mount.gid.value_or(0)) < 0 ||
        ::chmod(temporary.c_str(), mount.mode.value_or(0755)) < 0 ||
        ::rename(temporary.c_str(), path.c_str()) < 0) {
        int saved = errno;
        ::rmdir(temporary.c_str());
        if (saved == EEXIST || saved == ENOTEMPTY) return; // another build made it first
        errno = saved;
        throw_errno("creating the cache directory " + path);
    }
}

} // namespace

PreparedMounts::~PreparedMounts() {
    locks_.clear();
    for (const auto& image : mounted_) {
        try {
            image::unmount_image(store_.open(), image);
        } catch (const Error&) {
        }
    }
    for (const auto& dir : {work_dir_, secrets_dir_}) {
        if (dir.empty()) continue;
        try {
            remove_work_dir(dir);
        } catch (const Error&) {
        }
    }
}

void PreparedMounts::materialize(const StoreAccess& store, const std::string& store_root,
                                 const std::string& work_dir) {
    store_ = store;
    auto scratch = [&]() -> const std::string& {
        if (work_dir_.empty()) {
            make_directories(work_dir, 0700);
            work_dir_ = work_dir;
        }
        return work_dir_;
    };
    // Secrets copied with an owner live on a tmpfs: never on the disk.
    auto secrets = [&]() -> const std::string& {
        if (secrets_dir_.empty()) {
            make_directories(work_dir + "-secrets", 0700);
            secrets_dir_ = work_dir + "-secrets";
            if (!mount_scratch_tmpfs(secrets_dir_))
                throw_errno("mounting a tmpfs for the secrets on " + secrets_dir_);
        }
        return secrets_dir_;
    };
    int counter = 0;
    for (auto& source : sources) {
        const RunMount& mount = source.mount;
        engine::MountRequest request;
        request.type = "bind";
        request.target = source.target;
        request.read_only = mount.read_only;
        std::string name = std::to_string(counter++);
        switch (mount.type) {
        case RunMount::Type::bind: {
            std::unique_ptr<SourceTree> image_tree;
            const SourceTree* tree = source.tree;
            std::string path = confined_path(mount.source, "--mount source=" + mount.source);
            if (source.image) {
                std::string root = image::mount_image(store.open(), *source.image);
                mounted_.push_back(*source.image);
                image_tree = std::make_unique<SourceTree>(
                    SourceTree::root_filesystem(root, "image " + source.image->id.short_hex()));
                tree = image_tree.get();
            }
            // The context as the build sees it: what .dockerignore leaves out
            // is not there (nor in the key), so a context with one is copied.
            bool filtered = !source.image && !tree->ignore_rules().empty();
            if (mount.read_only && !filtered) {
                request.source = host_path_beneath(tree->root_fd(), path, "--mount source");
            } else {
                // rw: the command writes into a copy, and what it writes is dropped.
                UniqueFd dir = open_fd(scratch(), O_RDONLY | O_DIRECTORY);
                copy_from_tree(*tree, path, dir.get(), "bind-" + name, CopyOwnership{});
                request.source = work_dir_ + "/bind-" + name;
            }
            break;
        }
        case RunMount::Type::cache: {
            std::string base = store_root + "/build-cache";
            make_directories(base, 0700);
            std::string dir = base + "/" + oci::sha256_of(mount.id).hex().substr(0, 32);
            UniqueFd lock = open_fd(dir + ".lock", O_RDWR | O_CREAT, 0600);
            int operation = mount.sharing == "shared" ? LOCK_SH : LOCK_EX;
            if (mount.sharing == "private") operation |= LOCK_NB;
            int locked;
            do {
                locked = ::flock(lock.get(), operation);
            } while (locked < 0 && errno == EINTR);
            if (locked < 0 && errno == EWOULDBLOCK) {
                // private and in use: this step gets a fresh one of its own.
                dir = scratch() + "/cache-" + name;
            } else if (locked < 0) {
                throw_errno("locking the cache " + mount.id);
            } else {
                locks_.push_back(std::move(lock));
            }
            if (!path_exists(dir)) make_owned_directory(dir, mount);
            std::string sub = confined_path(mount.source, "--mount source=" + mount.source);
            if (!sub.empty()) {
                UniqueFd root = open_fd(dir, O_RDONLY | O_DIRECTORY);
                std::string inside = host_path_beneath(root.get(), "", "the cache " + mount.id);
                make_directories(inside + "/" + sub, 0755);
                request.source = host_path_beneath(root.get(), sub, "the cache " + mount.id);
            } else {
                request.source = dir;
            }
            break;
        }
        case RunMount::Type::tmpfs:
            request.type = "tmpfs";
            request.tmpfs_options = {"exec"};
            if (mount.size) request.tmpfs_options.push_back("size=" + std::to_string(*mount.size));
            break;
        case RunMount::Type::secret: {
            if (source.secret_path.empty()) continue; // not given, not required: no mount
            if (!mount.uid && !mount.gid && !mount.mode) {
                request.source = source.secret_path;
                break;
            }
            std::string copy = secrets() + "/secret-" + name;
            std::string content = read_file(source.secret_path);
            UniqueFd file = open_fd(copy, O_WRONLY | O_CREAT | O_EXCL, 0400);
            write_all(file.get(), content, "writing " + copy);
            if (::fchown(file.get(), mount.uid.value_or(0), mount.gid.value_or(0)) < 0 ||
                ::fchmod(file.get(), mount.mode.value_or(0400)) < 0)
                throw_errno("setting the owner of the secret " + mount.id);
            request.source = copy;
            break;
        }
        }
        requests.push_back(std::move(request));
        targets.push_back(source.target);
    }
}

void Builder::collect_mounts(StageState& state, const std::vector<std::string>& flags,
                             PreparedMounts& mounts) {
    VariableLookup lookup = lookup_for(state);
    std::set<std::string> targets;
    for (const auto& text : flags) {
        MountSource source;
        source.mount = parse_run_mount(expand_word(text, lookup, file_.escape));
        RunMount& mount = source.mount;
        std::string target = mount.target;
        if (target.empty() || target.front() != '/') {
            std::string workdir = state.config.config.working_dir.empty()
                                      ? std::string("/")
                                      : state.config.config.working_dir;
            target = workdir + "/" + target;
        }
        source.target = "/" + confined_path(target, "--mount target=" + mount.target);
        if (source.target == "/") fail("--mount target=" + mount.target + ": cannot mount over /");
        if (!targets.insert(source.target).second) fail("two mounts at " + source.target);
        mounts.key += "\nmount " + describe(mount) + " at " + source.target;
        if (mount.type == RunMount::Type::bind) {
            std::string path = confined_path(mount.source, "--mount source=" + mount.source);
            if (mount.from.empty()) {
                source.tree = &context();
                // What the bind brings is part of the step, as COPY's sources are.
                if (!path.empty()) path = context().match(path).at(0);
                mounts.key += " " + context().content_digest({path}).str();
            } else {
                int stage = referenced_stage(mount.from, current_stage_limit());
                if (stage >= 0) {
                    source.image = commit(built_.at(stage));
                } else {
                    source.image = store().find(mount.from);
                    if (!source.image)
                        fail("--mount from=" + mount.from + ": no such stage or image");
                }
                mounts.key += " " + source.image->manifest_digest.str();
            }
        } else if (mount.type == RunMount::Type::secret) {
            auto given = options_.secrets.find(mount.id);
            if (given != options_.secrets.end()) {
                source.secret_path = given->second;
                if (!path_exists(source.secret_path))
                    fail("secret " + mount.id + ": " + source.secret_path + " does not exist");
            } else if (mount.required) {
                fail("secret " + mount.id + " is required: give it with --secret id=" + mount.id +
                     ",src=FILE");
            }
            // Its content never goes into the key, only whether it was there.
            mounts.key += source.secret_path.empty() ? " absent" : " given";
        }
        mounts.sources.push_back(std::move(source));
    }
}

} // namespace berth::build::detail
