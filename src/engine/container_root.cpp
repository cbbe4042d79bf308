#include "container_root.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/base/user_namespace.h"
#include "berth/image/image_store.h"
#include "berth/image/rootfs.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace berth::engine {

ContainerRoot::ContainerRoot(const ContainerRecord& record, const std::string& container_dir,
                             const std::string& engine_root, bool with_mounts) {
    if (with_mounts && record.state == ContainerState::running && record.pid > 0) {
        pid_t pid = static_cast<pid_t>(record.pid);
        // The init is the monitor's child: its pid is not reused until
        // reaped, and the pidfd tells if that happened before the open.
        UniqueFd pidfd(pidfd_open(pid));
        if (pidfd) {
            int fd = ::open(("/proc/" + std::to_string(pid) + "/root").c_str(),
                            O_PATH | O_DIRECTORY | O_CLOEXEC);
            pollfd exited{pidfd.get(), POLLIN, 0};
            if (fd >= 0 && ::poll(&exited, 1, 0) == 0) {
                root_.reset(fd);
                return;
            }
            if (fd >= 0) ::close(fd);
        }
    }
    // Stopped (or just stopped): its own rootfs, mounted for the while.
    std::string rootfs = container_dir + "/rootfs";
    if (!image::is_mount_point(rootfs)) {
        image::StoreOptions options;
        options.root = engine_root;
        options.apply.preserve_ownership = !rootless();
        image::ImageStore store(options);
        image::mount_rootfs(store, store.resolve(record.image_id), container_dir);
        mounted_dir_ = container_dir;
    }
    root_ = open_fd(rootfs, O_PATH | O_DIRECTORY);
}

ContainerRoot::~ContainerRoot() {
    root_.reset();
    if (!mounted_dir_.empty()) {
        try {
            image::unmount_rootfs(mounted_dir_);
        } catch (const Error&) {
        }
    }
}

} // namespace berth::engine
