#include "tree_copy.h"

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

namespace berth::engine {

namespace {

void copy_file_data(int from, int to, off_t size, const std::string& name) {
    off_t done = 0;
    while (done < size) {
        ssize_t copied =
            ::copy_file_range(from, nullptr, to, nullptr, static_cast<std::size_t>(size - done), 0);
        if (copied < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL))
            copied = ::sendfile(to, from, nullptr, static_cast<std::size_t>(size - done));
        if (copied < 0) {
            if (errno == EINTR) continue;
            throw_errno("copying " + name);
        }
        if (copied == 0) break; // the file shrank meanwhile
        done += copied;
    }
}

// Owner first: chown clears the setuid and setgid bits that the mode then sets.
void set_owner_mode_and_times(int dir, const std::string& name, const struct stat& st,
                              const CopyOptions& options) {
    uid_t uid = options.keep_owner ? st.st_uid : options.uid;
    gid_t gid = options.keep_owner ? st.st_gid : options.gid;
    // Ownership only sticks for root; anyone else keeps their own.
    if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
        ::fchownat(dir, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM)
        throw_errno("setting the owner of " + name);
    if (!S_ISLNK(st.st_mode) && ::fchmodat(dir, name.c_str(), st.st_mode & 07777, 0) < 0)
        throw_errno("setting the mode of " + name);
    timespec times[2] = {st.st_atim, st.st_mtim};
    ::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

// Makes room for `name` in `dir`: true if a directory is there to merge into.
bool clear_the_way(int dir, const std::string& name, bool source_is_directory,
                   const CopyOptions& options) {
    struct stat existing;
    if (::fstatat(dir, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return false;
        throw_errno("reading " + name);
    }
    if (!options.merge) throw_errno("creating " + name, EEXIST);
    if (S_ISDIR(existing.st_mode)) {
        if (!source_is_directory)
            fail("cannot overwrite directory " + name + " with a non-directory");
        return true;
    }
    if (source_is_directory) fail("cannot overwrite non-directory " + name + " with a directory");
    if (::unlinkat(dir, name.c_str(), 0) < 0) throw_errno("replacing " + name);
    return false;
}

std::vector<std::string> entries_of(int dir) {
    int listing = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (listing < 0) throw_errno("listing a directory to copy");
    DIR* stream = ::fdopendir(listing);
    if (!stream) {
        ::close(listing);
        throw_errno("listing a directory to copy");
    }
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(stream)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(stream);
    return names;
}

} // namespace

void copy_directory_attributes(int source_dir, int target_dir) {
    struct stat st;
    if (::fstat(source_dir, &st) < 0) throw_errno("reading a directory's attributes");
    if (::fchown(target_dir, st.st_uid, st.st_gid) < 0 && errno != EPERM)
        throw_errno("setting a directory's owner");
    if (::fchmod(target_dir, st.st_mode & 07777) < 0) throw_errno("setting a directory's mode");
}

void copy_entry(int source_dir, const char* name, int target_dir, const char* target_name,
                const CopyOptions& options) {
    std::string source_name = name, target = target_name;
    struct stat st;
    if (::fstatat(source_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        throw_errno("reading " + source_name);
    bool merge_into = clear_the_way(target_dir, target, S_ISDIR(st.st_mode), options);
    if (S_ISDIR(st.st_mode)) {
        if (!merge_into && ::mkdirat(target_dir, target_name, 0700) < 0)
            throw_errno("creating " + target);
        UniqueFd from(::openat(source_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!from) throw_errno("opening " + source_name);
        UniqueFd to(
            ::openat(target_dir, target_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!to) throw_errno("opening the copy of " + source_name);
        copy_tree_contents(from.get(), to.get(), options);
    } else if (S_ISREG(st.st_mode)) {
        UniqueFd from(::openat(source_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!from) throw_errno("opening " + source_name);
        // What was checked is what is read: the entry may have been swapped.
        struct stat opened;
        if (::fstat(from.get(), &opened) < 0 || !S_ISREG(opened.st_mode))
            fail(source_name + " changed while it was copied");
        UniqueFd to(::openat(target_dir, target_name,
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!to) throw_errno("creating " + target);
        copy_file_data(from.get(), to.get(), opened.st_size, source_name);
        st = opened;
    } else if (S_ISLNK(st.st_mode)) {
        std::string link(static_cast<std::size_t>(st.st_size) + 1, '\0');
        ssize_t length = ::readlinkat(source_dir, name, link.data(), link.size());
        if (length < 0) throw_errno("reading the symlink " + source_name);
        link.resize(static_cast<std::size_t>(length));
        if (::symlinkat(link.c_str(), target_dir, target_name) < 0)
            throw_errno("creating the symlink " + target);
    } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        if (::mknodat(target_dir, target_name, st.st_mode, st.st_rdev) < 0) {
            if (errno == EPERM) return; // devices need root; the copy goes on without
            throw_errno("creating " + target);
        }
    } else {
        return; // sockets: nothing to copy
    }
    set_owner_mode_and_times(target_dir, target, st, options);
}

void copy_tree_contents(int source_dir, int target_dir, const CopyOptions& options) {
    for (const auto& name : entries_of(source_dir))
        copy_entry(source_dir, name.c_str(), target_dir, name.c_str(), options);
}

} // namespace berth::engine
