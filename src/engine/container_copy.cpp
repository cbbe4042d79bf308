// Engine::copy_from_container and copy_to_container: `berth cp`, safe
// against symlinks in the container (the class of CVE-2018-15664).
//
// The container side is never a string path on the host. Its root is an fd
// (the running container's /proc/PID/root, or its rootfs mounted for the
// copy), the path's parent is opened below that fd with openat2
// RESOLVE_IN_ROOT (a symlink to "/" or "../.." stays inside), and every
// entry below is opened relative to its parent's fd with O_NOFOLLOW, so a
// swap of a directory for a symlink during the copy yields a symlink copied
// as such or an error, never the host's file.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/engine/engine.h"
#include "berth/image/byte_stream.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_apply.h"
#include "berth/image/rootfs.h"
#include "berth/image/tar_reader.h"
#include "berth/image/tar_writer.h"
#include "container_root.h"
#include "tree_copy.h"
#include "tree_tar.h"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::engine {

namespace {

struct SplitPath {
    std::string parent;         // "/" for a top-level name
    std::string name;           // "" for the root itself
    bool contents_only = false; // "dir/." : what is inside, not the directory
};

SplitPath split_path(std::string path) {
    SplitPath split;
    if (path.size() >= 2 && path.ends_with("/.")) {
        split.contents_only = true;
        path.resize(path.size() - 2);
    }
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    if (path.empty() || path == "/") {
        split.parent = "/";
        return split;
    }
    auto slash = path.rfind('/');
    split.parent = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    split.name = path.substr(slash == std::string::npos ? 0 : slash + 1);
    if (split.name == "..") fail("cp: a path that ends in \"..\" is not supported: " + path);
    return split;
}

UniqueFd open_directory_in_root(int root, const std::string& path, const std::string& shown) {
    int fd = openat2_in_root(root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) fail("Could not find the file " + shown + " in container");
        throw_errno("opening " + shown + " in the container");
    }
    return UniqueFd(fd);
}

bool host_directory_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace

void Engine::copy_from_container(const std::string& reference, const std::string& container_path,
                                 const std::string& host_path) {
    if (container_path.empty()) fail("cp: the path in the container is empty");
    if (host_path == "-") {
        copy_from_container_as_tar(reference, container_path, STDOUT_FILENO);
        return;
    }
    ContainerRecord record = get(reference);
    ContainerRoot root(record, container_dir(record.id), options_.root, true);
    std::string path = container_path.front() == '/' ? container_path : "/" + container_path;
    SplitPath source = split_path(path);
    UniqueFd parent = open_directory_in_root(root.fd(), source.parent, container_path);
    // The root itself, or a directory's contents: copy what is inside.
    UniqueFd whole;
    if (source.name.empty() || source.contents_only) {
        whole = source.name.empty()
                    ? open_directory_in_root(root.fd(), "/", container_path)
                    : UniqueFd(::openat(parent.get(), source.name.c_str(),
                                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!whole) throw_errno("opening " + container_path + " in the container");
    }
    CopyOptions options;
    options.merge = true;
    options.keep_owner = false; // the copier's own, as Docker's
    if (whole) {
        make_directories(host_path, 0755);
        UniqueFd target = open_fd(host_path, O_RDONLY | O_DIRECTORY);
        copy_tree_contents(whole.get(), target.get(), options);
        return;
    }
    struct stat st;
    if (::fstatat(parent.get(), source.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) fail("Could not find the file " + container_path + " in container");
        throw_errno("reading " + container_path + " in the container");
    }
    // Into an existing directory under the same name, else as that path.
    std::string target_dir = host_path, target_name = source.name;
    if (!host_directory_exists(host_path)) {
        // Docker's rules: a file into "DIR/" needs DIR; a directory never
        // replaces a file.
        struct stat existing;
        if (S_ISDIR(st.st_mode) && ::stat(host_path.c_str(), &existing) == 0)
            fail("cp: cannot copy a directory to a file: " + host_path);
        if (!S_ISDIR(st.st_mode) && host_path.ends_with("/"))
            fail("cp: the destination directory " + host_path + " does not exist");
        SplitPath target = split_path(host_path);
        if (target.name.empty()) fail("cp: bad destination " + host_path);
        target_dir = target.parent;
        target_name = target.name;
        if (!host_directory_exists(target_dir))
            fail("cp: the destination directory " + target_dir + " does not exist");
    }
    UniqueFd target = open_fd(target_dir, O_RDONLY | O_DIRECTORY);
    copy_entry(parent.get(), source.name.c_str(), target.get(), target_name.c_str(), options);
}

void Engine::copy_to_container(const std::string& host_path, const std::string& reference,
                               const std::string& container_path) {
    if (container_path.empty()) fail("cp: the path in the container is empty");
    if (host_path == "-") {
        copy_tar_into_container(STDIN_FILENO, reference, container_path);
        return;
    }
    struct stat st;
    if (::lstat(host_path.c_str(), &st) < 0) throw_errno("cp: " + host_path);
    ContainerRecord record = get(reference);
    ContainerRoot root(record, container_dir(record.id), options_.root, true);
    std::string path = container_path.front() == '/' ? container_path : "/" + container_path;

    SplitPath source = split_path(host_path);
    UniqueFd source_parent =
        open_fd(source.name.empty() ? host_path : source.parent, O_RDONLY | O_DIRECTORY);
    CopyOptions options;
    options.merge = true;
    options.keep_owner = false;
    options.uid = 0; // root's in the container, as Docker's
    options.gid = 0;

    // An existing directory (found inside the root) receives the source by its name.
    int existing = openat2_in_root(root.fd(), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (existing >= 0) {
        UniqueFd directory(existing);
        if (source.name.empty() || source.contents_only) {
            UniqueFd whole = open_fd(host_path, O_RDONLY | O_DIRECTORY);
            copy_tree_contents(whole.get(), directory.get(), options);
        } else {
            copy_entry(source_parent.get(), source.name.c_str(), directory.get(),
                       source.name.c_str(), options);
        }
        return;
    }
    if (errno != ENOENT && errno != ENOTDIR)
        throw_errno("opening " + container_path + " in the container");
    if (errno == ENOTDIR && S_ISDIR(st.st_mode))
        fail("cp: cannot copy a directory to a file: " + container_path);
    if (errno == ENOENT && !S_ISDIR(st.st_mode) && container_path.ends_with("/"))
        fail("cp: the destination directory " + container_path + " does not exist");
    SplitPath target = split_path(path);
    if (target.name.empty()) fail("cp: bad destination " + container_path);
    UniqueFd parent = open_directory_in_root(root.fd(), target.parent, target.parent);
    if (source.name.empty() || source.contents_only) {
        if (::mkdirat(parent.get(), target.name.c_str(), 0755) < 0 && errno != EEXIST)
            throw_errno("creating " + container_path + " in the container");
        UniqueFd directory(::openat(parent.get(), target.name.c_str(),
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!directory) throw_errno("opening " + container_path + " in the container");
        UniqueFd whole = open_fd(host_path, O_RDONLY | O_DIRECTORY);
        copy_tree_contents(whole.get(), directory.get(), options);
        return;
    }
    copy_entry(source_parent.get(), source.name.c_str(), parent.get(), target.name.c_str(),
               options);
}

// `cp CONTAINER:PATH -`: a tar of PATH (named by its last component, a
// directory with everything below it), as Docker writes it.
void Engine::copy_from_container_as_tar(const std::string& reference,
                                        const std::string& container_path, int fd) {
    ContainerRecord record = get(reference);
    ContainerRoot root(record, container_dir(record.id), options_.root, true);
    std::string path = container_path.front() == '/' ? container_path : "/" + container_path;
    SplitPath source = split_path(path);
    image::TarWriter tar(fd);
    if (source.name.empty() || source.contents_only) {
        UniqueFd whole = source.name.empty()
                             ? open_directory_in_root(root.fd(), "/", container_path)
                             : open_directory_in_root(root.fd(), path.substr(0, path.size() - 2),
                                                      container_path);
        write_tree(tar, whole.get(), "");
    } else {
        UniqueFd parent = open_directory_in_root(root.fd(), source.parent, container_path);
        struct stat st;
        if (::fstatat(parent.get(), source.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                fail("Could not find the file " + container_path + " in container");
            throw_errno("reading " + container_path + " in the container");
        }
        write_tree_entry(tar, parent.get(), source.name, "");
    }
    tar.finish();
}

// `cp - CONTAINER:DIR`: a tar read from `fd` unpacked into the existing
// directory DIR, every entry created beneath it by fd (never through a
// symlink, as image layers are), owners kept from the archive.
void Engine::copy_tar_into_container(int fd, const std::string& reference,
                                     const std::string& container_path) {
    ContainerRecord record = get(reference);
    ContainerRoot root(record, container_dir(record.id), options_.root, true);
    std::string path = container_path.front() == '/' ? container_path : "/" + container_path;
    int directory = openat2_in_root(root.fd(), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0) {
        if (errno == ENOTDIR)
            fail("cp: destination \"" + container_path + "\" must be a directory");
        if (errno == ENOENT) fail("Could not find the file " + container_path + " in container");
        throw_errno("opening " + container_path + " in the container");
    }
    UniqueFd target(directory);
    image::FdSource source(fd, "the tar on standard input");
    image::TarReader archive(source);
    image::ApplyOptions options;
    options.preserve_ownership = ::geteuid() == 0;
    image::apply_layer(archive, target.get(), options);
}

} // namespace berth::engine
