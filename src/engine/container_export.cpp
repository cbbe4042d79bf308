// Engine::export_filesystem and Engine::diff: the container's filesystem as
// a tar (with the image layer's tar writer), and its changes from the
// overlay's upper directory.
#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/engine/engine.h"
#include "berth/image/image_store.h"
#include "berth/image/tar_writer.h"
#include "container_root.h"
#include "tree_tar.h"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace berth::engine {

namespace {

std::vector<std::string> names_in(int dir) {
    std::vector<std::string> names;
    int listing = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (listing < 0) throw_errno("listing a directory");
    DIR* stream = ::fdopendir(listing);
    if (!stream) {
        ::close(listing);
        throw_errno("listing a directory");
    }
    while (dirent* entry = ::readdir(stream)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(stream);
    std::sort(names.begin(), names.end());
    return names;
}

image::TarEntry entry_of(const std::string& path, const struct stat& st) {
    image::TarEntry entry;
    entry.path = path;
    entry.mode = st.st_mode & 07777;
    entry.uid = st.st_uid;
    entry.gid = st.st_gid;
    entry.mtime = {st.st_mtim.tv_sec, static_cast<std::uint32_t>(st.st_mtim.tv_nsec)};
    entry.atime = entry.mtime;
    return entry;
}

} // namespace

void write_tree_entry(image::TarWriter& tar, int dir, const std::string& name,
                      const std::string& prefix) {
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return; // gone meanwhile
        throw_errno("reading " + prefix + name);
    }
    std::string path = prefix + name;
    image::TarEntry entry = entry_of(path, st);
    if (S_ISDIR(st.st_mode)) {
        entry.type = image::TarEntryType::directory;
        entry.path += "/";
        tar.header(entry);
        UniqueFd child(
            ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!child) throw_errno("opening " + path);
        write_tree(tar, child.get(), path + "/");
    } else if (S_ISREG(st.st_mode)) {
        UniqueFd file(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!file) throw_errno("opening " + path);
        struct stat opened;
        if (::fstat(file.get(), &opened) < 0 || !S_ISREG(opened.st_mode))
            fail(path + " changed while it was exported");
        entry = entry_of(path, opened);
        entry.size = static_cast<std::uint64_t>(opened.st_size);
        tar.header(entry);
        std::string chunk(1 << 16, '\0');
        std::uint64_t left = entry.size;
        while (left > 0) {
            ssize_t got =
                ::read(file.get(), chunk.data(), std::min<std::uint64_t>(chunk.size(), left));
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) throw_errno("reading " + path);
            if (got == 0) {
                // Shrunk meanwhile: pad with zeros, as tar does.
                std::fill(chunk.begin(), chunk.end(), '\0');
                got = static_cast<ssize_t>(std::min<std::uint64_t>(chunk.size(), left));
            }
            tar.data(std::string_view(chunk.data(), static_cast<std::size_t>(got)));
            left -= static_cast<std::uint64_t>(got);
        }
        if (entry.size == 0) tar.data({});
    } else if (S_ISLNK(st.st_mode)) {
        std::string target(4096, '\0');
        ssize_t length = ::readlinkat(dir, name.c_str(), target.data(), target.size());
        if (length < 0) throw_errno("reading the symlink " + path);
        target.resize(static_cast<std::size_t>(length));
        entry.type = image::TarEntryType::symlink;
        entry.link_target = target;
        tar.header(entry);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
        entry.type = S_ISCHR(st.st_mode)   ? image::TarEntryType::char_device
                     : S_ISBLK(st.st_mode) ? image::TarEntryType::block_device
                                           : image::TarEntryType::fifo;
        entry.device_major = major(st.st_rdev);
        entry.device_minor = minor(st.st_rdev);
        tar.header(entry);
    }
    // Sockets are not archived, as in Docker's export.
}

void write_tree(image::TarWriter& tar, int dir, const std::string& prefix) {
    for (const auto& name : names_in(dir))
        write_tree_entry(tar, dir, name, prefix);
}

namespace {

bool is_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool is_opaque(int dir) {
    char value[2] = {};
    return ::fgetxattr(dir, "trusted.overlay.opaque", value, sizeof value) == 1 && value[0] == 'y';
}

// Whether `path` (relative) exists in any of the image's layers.
bool in_lower(const std::vector<UniqueFd>& lowers, const std::string& path) {
    struct stat st;
    for (const auto& lower : lowers) {
        // Inside the layer: a symlink in it must not make us look at the host.
        int fd = openat2_in_root(lower.get(), path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) continue;
        UniqueFd found(fd);
        if (::fstat(fd, &st) == 0 && !is_whiteout(st)) return true;
    }
    return false;
}

void diff_tree(int upper, const std::string& prefix, const std::vector<UniqueFd>& lowers,
               std::vector<std::pair<char, std::string>>& changes) {
    for (const auto& name : names_in(upper)) {
        std::string relative = prefix + name;
        struct stat st;
        if (::fstatat(upper, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
        if (is_whiteout(st)) {
            changes.push_back({'D', "/" + relative});
            continue;
        }
        bool existed = in_lower(lowers, relative);
        changes.push_back({existed ? 'C' : 'A', "/" + relative});
        if (!S_ISDIR(st.st_mode)) continue;
        UniqueFd child(
            ::openat(upper, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!child) continue;
        diff_tree(child.get(), relative + "/", lowers, changes);
        if (existed && is_opaque(child.get())) {
            // An opaque directory hides everything the layers had in it.
            std::set<std::string> kept;
            for (const auto& entry : names_in(child.get()))
                kept.insert(entry);
            std::set<std::string> hidden;
            for (const auto& lower : lowers) {
                int fd = openat2_in_root(lower.get(), relative,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) continue;
                UniqueFd below(fd);
                for (const auto& entry : names_in(below.get()))
                    if (!kept.contains(entry)) hidden.insert(entry);
            }
            for (const auto& entry : hidden)
                changes.push_back({'D', "/" + relative + "/" + entry});
        }
    }
}

} // namespace

void Engine::export_filesystem(const std::string& reference, int fd) {
    ContainerRecord record = get(reference);
    ContainerRoot root(record, container_dir(record.id), options_.root, false);
    UniqueFd top = open_at(root.fd(), ".", O_RDONLY | O_DIRECTORY);
    image::TarWriter tar(fd);
    write_tree(tar, top.get(), "");
    tar.finish();
}

std::vector<std::pair<char, std::string>> Engine::diff(const std::string& reference) {
    ContainerRecord record = get(reference);
    std::string upper_path = container_dir(record.id) + "/upper";
    image::StoreOptions store_options;
    store_options.root = options_.root;
    image::ImageStore store(store_options);
    std::vector<UniqueFd> lowers;
    for (const auto& path : store.unpack(store.resolve(record.image_id)))
        lowers.push_back(open_fd(path, O_PATH | O_DIRECTORY));
    std::vector<std::pair<char, std::string>> changes;
    int upper = ::open(upper_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (upper < 0) {
        if (errno == ENOENT) return changes; // never mounted: no change
        throw_errno("opening " + upper_path);
    }
    UniqueFd upper_fd(upper);
    diff_tree(upper_fd.get(), "", lowers, changes);
    // Mount points berth itself made, as Docker leaves its init layer out.
    static const std::set<std::string> made_by_berth = {
        "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/sbin/docker-init", "/proc",
        "/sys",          "/dev"};
    std::erase_if(changes, [](const auto& change) {
        return change.first == 'A' && made_by_berth.contains(change.second);
    });
    std::sort(changes.begin(), changes.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    return changes;
}

} // namespace berth::engine
