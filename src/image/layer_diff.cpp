#include "berth/image/layer_diff.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/image/layer_apply.h"
#include "berth/image/tar_writer.h"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace berth::image {

namespace {

std::vector<std::string> sorted_names(int dir_fd, const std::string& where) {
    int copy = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0) throw_errno("reading " + where);
    DIR* dir = ::fdopendir(copy);
    if (!dir) {
        ::close(copy);
        throw_errno("reading " + where);
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(std::move(name));
    }
    int err = errno;
    ::closedir(dir);
    if (err) throw_errno("reading " + where, err);
    std::sort(names.begin(), names.end());
    return names;
}

// The xattrs a layer carries (user.*, security.capability...); overlay's own
// trusted.overlay.* are what this file turns into tar conventions.
std::map<std::string, std::string> layer_xattrs(int fd, const std::string& path) {
    std::map<std::string, std::string> xattrs;
    char names[4096];
    ssize_t length = ::flistxattr(fd, names, sizeof names);
    if (length < 0) {
        if (errno == ENOTSUP) return xattrs;
        throw_errno("listing the xattrs of " + path);
    }
    for (ssize_t i = 0; i < length;) {
        std::string name = names + i;
        i += static_cast<ssize_t>(name.size()) + 1;
        if (name.starts_with("trusted.overlay.")) {
            if (name == "trusted.overlay.redirect" || name == "trusted.overlay.metacopy")
                fail(path + " has overlay's " + name.substr(16) +
                     " xattr: a layer cannot express it (mount overlay without redirect_dir "
                     "and metacopy)");
            continue;
        }
        char value[4096];
        ssize_t size = ::fgetxattr(fd, name.c_str(), value, sizeof value);
        if (size < 0) continue; // gone meanwhile, or a value too large to keep
        xattrs[name] = std::string(value, static_cast<std::size_t>(size));
    }
    return xattrs;
}

bool is_opaque(int dir_fd) {
    char value[2] = {};
    ssize_t size = ::fgetxattr(dir_fd, overlay_opaque_xattr, value, sizeof value);
    return size == 1 && value[0] == 'y';
}

class UpperWalker {
  public:
    UpperWalker(int out_fd, const LayerDiffOptions& options) : writer_(out_fd), options_(options) {}

    void walk(int dir_fd, const std::string& prefix) {
        for (const auto& name : sorted_names(dir_fd, prefix.empty() ? "the upper" : prefix)) {
            std::string path = prefix + name;
            if (options_.excluded.contains(path)) continue;
            struct stat info {};
            if (::fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) < 0)
                throw_errno("reading " + path);
            ++stats_.entries;
            TarEntry entry;
            entry.path = path;
            entry.mode = info.st_mode & 07777;
            entry.uid = info.st_uid;
            entry.gid = info.st_gid;
            entry.mtime.seconds = clamp(info.st_mtim.tv_sec);
            if (S_ISCHR(info.st_mode) && info.st_rdev == makedev(0, 0)) {
                // Deleted in the container: a whiteout.
                TarEntry whiteout;
                whiteout.path = prefix + whiteout_prefix + name;
                whiteout.mtime = entry.mtime;
                writer_.header(whiteout);
            } else if (S_ISDIR(info.st_mode)) {
                UniqueFd sub = open_at(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                entry.type = TarEntryType::directory;
                entry.xattrs = layer_xattrs(sub.get(), path);
                writer_.header(entry);
                if (is_opaque(sub.get())) {
                    TarEntry opaque;
                    opaque.path = path + "/" + opaque_whiteout;
                    opaque.mtime = entry.mtime;
                    writer_.header(opaque);
                }
                walk(sub.get(), path + "/");
            } else if (S_ISREG(info.st_mode)) {
                auto key = std::make_pair(info.st_dev, info.st_ino);
                if (info.st_nlink > 1) {
                    auto [it, first] = links_.emplace(key, path);
                    if (!first) {
                        entry.type = TarEntryType::hard_link;
                        entry.link_target = it->second;
                        writer_.header(entry);
                        continue;
                    }
                }
                UniqueFd file = open_at(dir_fd, name, O_RDONLY | O_NOFOLLOW);
                entry.size = static_cast<std::uint64_t>(info.st_size);
                stats_.bytes += entry.size;
                entry.xattrs = layer_xattrs(file.get(), path);
                writer_.header(entry);
                copy_data(file.get(), entry.size, path);
            } else if (S_ISLNK(info.st_mode)) {
                entry.type = TarEntryType::symlink;
                std::string target(static_cast<std::size_t>(info.st_size) + 1, '\0');
                ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
                if (n < 0) throw_errno("reading the link " + path);
                target.resize(static_cast<std::size_t>(n));
                entry.link_target = target;
                writer_.header(entry);
            } else {
                entry.type = S_ISCHR(info.st_mode)   ? TarEntryType::char_device
                             : S_ISBLK(info.st_mode) ? TarEntryType::block_device
                             : S_ISFIFO(info.st_mode)
                                 ? TarEntryType::fifo
                                 : throw Error(path + " is a socket: a layer cannot hold it");
                entry.device_major = major(info.st_rdev);
                entry.device_minor = minor(info.st_rdev);
                writer_.header(entry);
            }
        }
    }

    void finish() { writer_.finish(); }
    LayerDiffStats stats() const { return stats_; }

  private:
    std::int64_t clamp(std::int64_t seconds) const {
        if (options_.clamp_mtime && seconds > *options_.clamp_mtime) return *options_.clamp_mtime;
        return seconds;
    }

    void copy_data(int fd, std::uint64_t size, const std::string& path) {
        std::string chunk(std::min<std::uint64_t>(size, 1 << 20), '\0');
        std::uint64_t left = size;
        while (left > 0) {
            ssize_t n = ::read(fd, chunk.data(), std::min<std::uint64_t>(chunk.size(), left));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno("reading " + path);
            if (n == 0) fail(path + " shrank while it was read");
            writer_.data(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
            left -= static_cast<std::uint64_t>(n);
        }
    }

    TarWriter writer_;
    LayerDiffStats stats_;
    const LayerDiffOptions& options_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

} // namespace

LayerDiffStats write_layer_from_upper(int upper_fd, int out_fd, const LayerDiffOptions& options) {
    UpperWalker walker(out_fd, options);
    walker.walk(upper_fd, "");
    walker.finish();
    return walker.stats();
}

StoredLayer store_layer_from_upper(ContentStore& blobs, int upper_fd,
                                   const std::string& scratch_dir,
                                   const LayerDiffOptions& options) {
    UniqueFd tar = open_fd(scratch_dir, O_RDWR | O_TMPFILE, 0600);
    LayerDiffStats stats = write_layer_from_upper(upper_fd, tar.get(), options);
    if (::lseek(tar.get(), 0, SEEK_SET) < 0) throw_errno("rewinding the layer");
    FdSource source(tar.get(), "the layer");
    oci::Descriptor layer;
    layer.media_type = oci::media_type::oci_layer;
    layer.digest = blobs.ingest(source);
    layer.size = static_cast<std::int64_t>(blobs.size(layer.digest));
    return {layer, stats};
}

} // namespace berth::image
