#include "berth/runtime/runtime.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

extern char** environ;

namespace berth::runtime {

void reexec_from_read_only_binary(char** argv) {
    int self = ::open("/proc/self/exe", O_PATH | O_CLOEXEC);
    if (self < 0) return;
    struct statvfs fs;
    bool read_only = ::fstatvfs(self, &fs) == 0 && (fs.f_flag & ST_RDONLY);
    ::close(self);
    if (read_only) return;
    int tree = ::open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) return;
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0)
        ::execveat(tree, "", argv, environ, AT_EMPTY_PATH);
    ::close(tree);
}

} // namespace berth::runtime
