#include "berth/build/build_context.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/text.h"
#include "berth/image/byte_stream.h"
#include "berth/image/decompress.h"
#include "berth/image/layer_apply.h"
#include "berth/image/tar_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::build {

namespace {

bool has_glob(std::string_view text) {
    return text.find_first_of("*?[") != std::string::npos;
}

std::vector<std::string> directory_names(int dir_fd) {
    int copy = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0) throw_errno("reading a directory");
    DIR* dir = ::fdopendir(copy);
    if (!dir) {
        ::close(copy);
        throw_errno("reading a directory");
    }
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

std::string join(const std::string& parent, const std::string& name) {
    return parent.empty() ? name : parent + "/" + name;
}

UniqueFd open_beneath(int root_fd, const std::string& path, int flags) {
    int fd = openat2_in_root(root_fd, path.empty() ? "." : path, flags | O_CLOEXEC);
    if (fd < 0) return UniqueFd();
    return UniqueFd(fd);
}

void copy_data(int from, int to, std::uint64_t size, const std::string& path) {
    std::uint64_t left = size;
    while (left > 0) {
        ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, left, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 &&
            (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
            char buffer[1 << 16];
            ssize_t got = ::read(from, buffer, std::min<std::uint64_t>(sizeof buffer, left));
            if (got < 0) throw_errno("reading " + path);
            if (got == 0) break;
            write_all(to, std::string_view(buffer, static_cast<std::size_t>(got)), path);
            left -= static_cast<std::uint64_t>(got);
            continue;
        }
        if (n < 0) throw_errno("copying " + path);
        if (n == 0) break;
        left -= static_cast<std::uint64_t>(n);
    }
}

// Removes what is at `name` unless it is a directory (which is merged into).
void clear_non_directory(int dir_fd, const std::string& name) {
    struct stat info {};
    if (::fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) < 0) return;
    if (S_ISDIR(info.st_mode)) return;
    if (::unlinkat(dir_fd, name.c_str(), 0) < 0) throw_errno("replacing " + name);
}

void set_times(int dir_fd, const std::string& name, const struct stat& source) {
    timespec times[2] = {source.st_mtim, source.st_mtim};
    ::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

// Whether an excluded directory holds something an exception brings back.
bool holds_included(int dir_fd, const std::string& path, const SourceTree& tree) {
    for (const auto& name : directory_names(dir_fd)) {
        std::string child = join(path, name);
        struct stat info {};
        if (::fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) < 0) continue;
        if (!tree.excluded(child)) return true;
        if (S_ISDIR(info.st_mode)) {
            UniqueFd sub = open_at(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            if (holds_included(sub.get(), child, tree)) return true;
        }
    }
    return false;
}

// Whether the walk leaves out the entry `name` (at `path`) of `dir_fd`.
bool left_out(int dir_fd, const std::string& name, const std::string& path, const struct stat& info,
              const SourceTree& tree) {
    if (!tree.excluded(path)) return false;
    if (!S_ISDIR(info.st_mode) || !tree.ignore_rules().has_exceptions()) return true;
    UniqueFd sub = open_at(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    return !holds_included(sub.get(), path, tree);
}

class TreeCopier {
  public:
    TreeCopier(const SourceTree& tree, const CopyOwnership& owner) : tree_(tree), owner_(owner) {}

    // `source_fd` is open (O_PATH or not) on the entry at `path`.
    void copy(int source_parent_fd, const std::string& source_name, const std::string& path,
              const struct stat& info, int dest_dir_fd, const std::string& name) {
        if (S_ISDIR(info.st_mode)) {
            clear_non_directory(dest_dir_fd, name);
            if (::mkdirat(dest_dir_fd, name.c_str(), 0755) < 0 && errno != EEXIST)
                throw_errno("creating " + name);
            UniqueFd dest = open_at(dest_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            UniqueFd source =
                open_at(source_parent_fd, source_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            copy_directory_contents(source.get(), path, dest.get());
            // "." is an existing destination ("COPY dir/ /"): left as it is.
            if (name != ".")
                finish(dest_dir_fd, name, info, owner_.mode.value_or(info.st_mode & 07777));
        } else if (S_ISREG(info.st_mode)) {
            UniqueFd source = open_at(source_parent_fd, source_name, O_RDONLY | O_NOFOLLOW);
            clear_non_directory(dest_dir_fd, name);
            UniqueFd dest =
                open_at(dest_dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
            copy_data(source.get(), dest.get(), static_cast<std::uint64_t>(info.st_size), path);
            finish(dest_dir_fd, name, info, owner_.mode.value_or(info.st_mode & 07777));
        } else if (S_ISLNK(info.st_mode)) {
            std::string target(static_cast<std::size_t>(info.st_size) + 1, '\0');
            ssize_t n =
                ::readlinkat(source_parent_fd, source_name.c_str(), target.data(), target.size());
            if (n < 0) throw_errno("reading the link " + path);
            target.resize(static_cast<std::size_t>(n));
            clear_non_directory(dest_dir_fd, name);
            if (::symlinkat(target.c_str(), dest_dir_fd, name.c_str()) < 0)
                throw_errno("creating the link " + name);
            if (::fchownat(dest_dir_fd, name.c_str(), owner_.uid, owner_.gid, AT_SYMLINK_NOFOLLOW) <
                0)
                throw_errno("setting the owner of " + name);
            set_times(dest_dir_fd, name, info);
        } else if (S_ISFIFO(info.st_mode)) {
            clear_non_directory(dest_dir_fd, name);
            if (::mkfifoat(dest_dir_fd, name.c_str(), info.st_mode & 07777) < 0)
                throw_errno("creating the fifo " + name);
            finish(dest_dir_fd, name, info, owner_.mode.value_or(info.st_mode & 07777));
        }
        // Sockets and devices in a context are not copied, as with Docker.
    }

    void copy_directory_contents(int source_dir_fd, const std::string& path, int dest_dir_fd) {
        for (const auto& name : directory_names(source_dir_fd)) {
            std::string child = join(path, name);
            struct stat info {};
            if (::fstatat(source_dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) < 0)
                throw_errno("reading " + child);
            if (left_out(source_dir_fd, name, child, info, tree_)) continue;
            copy(source_dir_fd, name, child, info, dest_dir_fd, name);
        }
    }

  private:
    void finish(int dir_fd, const std::string& name, const struct stat& info, std::uint32_t mode) {
        if (::fchownat(dir_fd, name.c_str(), owner_.uid, owner_.gid, AT_SYMLINK_NOFOLLOW) < 0)
            throw_errno("setting the owner of " + name);
        if (::fchmodat(dir_fd, name.c_str(), mode, 0) < 0)
            throw_errno("setting the mode of " + name);
        set_times(dir_fd, name, info);
    }

    const SourceTree& tree_;
    const CopyOwnership& owner_;
};

void hash_entry(oci::Sha256& hash, int parent_fd, const std::string& name, const std::string& path,
                const SourceTree& tree) {
    struct stat info {};
    if (::fstatat(parent_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) < 0)
        throw_errno("reading " + path);
    std::string header =
        path + "\n" + std::to_string(info.st_mode) + " " + std::to_string(info.st_size) + "\n";
    hash.update(header);
    if (S_ISREG(info.st_mode)) {
        UniqueFd file = open_at(parent_fd, name, O_RDONLY | O_NOFOLLOW);
        char buffer[1 << 16];
        for (;;) {
            ssize_t n = ::read(file.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno("reading " + path);
            if (n == 0) break;
            hash.update(buffer, static_cast<std::size_t>(n));
        }
    } else if (S_ISLNK(info.st_mode)) {
        char target[4096];
        ssize_t n = ::readlinkat(parent_fd, name.c_str(), target, sizeof target);
        if (n > 0) hash.update(target, static_cast<std::size_t>(n));
    } else if (S_ISDIR(info.st_mode)) {
        UniqueFd dir = open_at(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        for (const auto& child : directory_names(dir.get())) {
            std::string child_path = join(path, child);
            struct stat child_info {};
            if (::fstatat(dir.get(), child.c_str(), &child_info, AT_SYMLINK_NOFOLLOW) < 0 ||
                left_out(dir.get(), child, child_path, child_info, tree))
                continue;
            hash_entry(hash, dir.get(), child, child_path, tree);
        }
    }
}

// The parent directory (opened inside the root, symlinks followed within it)
// and the last name of `path`, so that a symlink named as a source is
// followed within the root while the walk below uses only *at() calls.
std::pair<UniqueFd, std::string> parent_and_name(int root_fd, const std::string& path) {
    auto slash = path.rfind('/');
    std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    UniqueFd dir = open_beneath(root_fd, parent, O_RDONLY | O_DIRECTORY);
    if (!dir) throw_errno(path);
    return {std::move(dir), name};
}

} // namespace

std::string confined_path(const std::string& path, const std::string& what) {
    std::vector<std::string> kept;
    for (const auto& part : split(path, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (kept.empty()) fail(what + ": forbidden path outside the build context: " + path);
            kept.pop_back();
            continue;
        }
        kept.push_back(part);
    }
    std::string out;
    for (const auto& part : kept)
        out = join(out, part);
    return out;
}

SourceTree SourceTree::context(const std::string& directory) {
    UniqueFd root = open_fd(directory, O_RDONLY | O_DIRECTORY);
    IgnoreRules rules;
    int fd = openat2_in_root(root.get(), ".dockerignore", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        UniqueFd file(fd);
        rules = with_context("reading .dockerignore",
                             [&] { return IgnoreRules(read_all(file.get())); });
    }
    return SourceTree(std::move(root), "the build context", std::move(rules));
}

SourceTree SourceTree::excluding(const std::string& base,
                                 const std::vector<std::string>& patterns) const {
    int copy = ::fcntl(root_.get(), F_DUPFD_CLOEXEC, 3);
    if (copy < 0) throw_errno("duplicating the fd of " + description_);
    SourceTree tree(UniqueFd(copy), description_, ignore_);
    std::string text;
    for (const auto& pattern : patterns)
        text += pattern + "\n";
    tree.exclude_base_ = base;
    tree.exclude_ = with_context("--exclude", [&] { return IgnoreRules(text); });
    return tree;
}

bool SourceTree::excluded_below(const std::string& relative_path) const {
    if (exclude_.empty()) return false;
    if (exclude_base_.empty()) return !relative_path.empty() && exclude_.excluded(relative_path);
    if (!relative_path.starts_with(exclude_base_ + "/")) return false;
    return exclude_.excluded(relative_path.substr(exclude_base_.size() + 1));
}

SourceTree SourceTree::root_filesystem(const std::string& directory, std::string description) {
    return SourceTree(open_fd(directory, O_RDONLY | O_DIRECTORY), std::move(description), {});
}

std::optional<std::string> SourceTree::read_small_file(const std::string& relative_path) const {
    int fd = openat2_in_root(root_.get(), relative_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    UniqueFd file(fd);
    return read_all(file.get());
}

std::vector<std::string> SourceTree::match(const std::string& source) const {
    std::string path = confined_path(source, "COPY " + source);
    if (!has_glob(path)) {
        UniqueFd fd = open_beneath(root_.get(), path, O_PATH);
        if (!fd || (!path.empty() && excluded(path)))
            fail(source + ": not found in " + description_);
        return {path};
    }
    // Expand one component at a time, from the root down.
    std::vector<std::string> candidates = {""};
    for (const auto& component : split(path, '/')) {
        std::vector<std::string> next;
        for (const auto& base : candidates) {
            if (!has_glob(component)) {
                std::string child = join(base, component);
                if (UniqueFd fd = open_beneath(root_.get(), child, O_PATH); fd)
                    next.push_back(child);
                continue;
            }
            UniqueFd dir = open_beneath(root_.get(), base, O_RDONLY | O_DIRECTORY);
            if (!dir) continue;
            for (const auto& name : directory_names(dir.get()))
                if (match_component(component, name)) next.push_back(join(base, name));
        }
        candidates = std::move(next);
    }
    std::erase_if(candidates, [&](const std::string& p) { return excluded(p); });
    if (candidates.empty()) fail(source + ": no file in " + description_ + " matches");
    std::sort(candidates.begin(), candidates.end());
    return candidates;
}

oci::Digest SourceTree::content_digest(const std::vector<std::string>& paths) const {
    oci::Sha256 hash;
    for (const auto& path : paths) {
        hash.update("source " + path + "\n");
        if (path.empty()) {
            for (const auto& name : directory_names(root_.get())) {
                struct stat info {};
                if (::fstatat(root_.get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) < 0 ||
                    left_out(root_.get(), name, name, info, *this))
                    continue;
                hash_entry(hash, root_.get(), name, name, *this);
            }
            continue;
        }
        auto [parent, name] = parent_and_name(root_.get(), path);
        hash_entry(hash, parent.get(), name, path, *this);
    }
    return hash.finish();
}

void copy_from_tree(const SourceTree& tree, const std::string& path, int dest_dir_fd,
                    const std::string& name, const CopyOwnership& owner) {
    TreeCopier copier(tree, owner);
    if (path.empty()) {
        // The whole root ("COPY . /app"): its contents into the destination.
        clear_non_directory(dest_dir_fd, name);
        if (::mkdirat(dest_dir_fd, name.c_str(), 0755) < 0 && errno != EEXIST)
            throw_errno("creating " + name);
        UniqueFd dest = open_at(dest_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        copier.copy_directory_contents(tree.root_fd(), "", dest.get());
        return;
    }
    auto [parent, last] = parent_and_name(tree.root_fd(), path);
    struct stat info {};
    if (::fstatat(parent.get(), last.c_str(), &info, 0) < 0) throw_errno(path);
    // A symlink named as the source: followed, but only within the root.
    UniqueFd resolved = open_beneath(tree.root_fd(), path, O_PATH);
    if (!resolved) throw_errno(path + " in " + tree.description());
    struct stat link_info {};
    ::fstatat(parent.get(), last.c_str(), &link_info, AT_SYMLINK_NOFOLLOW);
    if (S_ISLNK(link_info.st_mode)) {
        if (::fstat(resolved.get(), &info) < 0) throw_errno(path);
        if (S_ISDIR(info.st_mode)) {
            UniqueFd dir = open_beneath(tree.root_fd(), path, O_RDONLY | O_DIRECTORY);
            clear_non_directory(dest_dir_fd, name);
            if (::mkdirat(dest_dir_fd, name.c_str(), 0755) < 0 && errno != EEXIST)
                throw_errno("creating " + name);
            UniqueFd dest = open_at(dest_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            copier.copy_directory_contents(dir.get(), path, dest.get());
            return;
        }
        if (S_ISREG(info.st_mode)) {
            UniqueFd file = open_beneath(tree.root_fd(), path, O_RDONLY);
            clear_non_directory(dest_dir_fd, name);
            UniqueFd dest =
                open_at(dest_dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
            copy_data(file.get(), dest.get(), static_cast<std::uint64_t>(info.st_size), path);
            if (::fchown(dest.get(), owner.uid, owner.gid) < 0 ||
                ::fchmod(dest.get(), owner.mode.value_or(info.st_mode & 07777)) < 0)
                throw_errno("setting the owner and mode of " + name);
            return;
        }
        fail(path + " is not a file or directory");
    }
    copier.copy(parent.get(), last, path, info, dest_dir_fd, name);
}

bool is_tar_archive(const SourceTree& tree, const std::string& path) {
    UniqueFd file = open_beneath(tree.root_fd(), path, O_RDONLY);
    if (!file) return false;
    struct stat info {};
    if (::fstat(file.get(), &info) < 0 || !S_ISREG(info.st_mode)) return false;
    char head[512] = {};
    ssize_t got = ::pread(file.get(), head, sizeof head, 0);
    if (got <= 0) return false;
    std::string_view first(head, static_cast<std::size_t>(got));
    try {
        if (image::detect_compression(first) != oci::Compression::none) return true;
    } catch (const Error&) {
        return false; // xz, bzip2: copied as they are
    }
    return got == 512 && std::memcmp(head + 257, "ustar", 5) == 0;
}

void extract_archive(const SourceTree& tree, const std::string& path, int dest_dir_fd) {
    with_context("unpacking " + path, [&] {
        UniqueFd file = open_beneath(tree.root_fd(), path, O_RDONLY);
        if (!file) throw_errno(path);
        image::FdSource raw(file.get(), path);
        image::PeekableSource peekable(raw);
        oci::Compression compression =
            image::detect_compression(peekable.peek(image::compression_magic_size));
        std::unique_ptr<image::ByteSource> plain;
        image::ByteSource* source = &peekable;
        if (compression != oci::Compression::none) {
            plain = image::decompressing(peekable, compression);
            source = plain.get();
        }
        image::TarReader reader(*source);
        image::apply_layer(reader, dest_dir_fd);
    });
}

} // namespace berth::build
