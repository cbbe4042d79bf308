#include "berth/network/netns.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/network/route_netlink.h"

#include <cerrno>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <thread>
#include <unistd.h>

namespace berth::network {

UniqueFd create_network_namespace(const std::string& path) {
    {
        int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) throw_errno("creating " + path);
        ::close(fd);
    }
    // unshare moves only the calling thread: a short-lived thread makes the
    // namespace, the bind mount keeps it, and this thread stays where it was.
    std::string failure;
    std::thread maker([&] {
        try {
            if (::unshare(CLONE_NEWNET) < 0) throw_errno("creating a network namespace");
            if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0)
                throw_errno("bind-mounting the network namespace on " + path);
        } catch (const Error& error) {
            failure = error.what();
        }
    });
    maker.join();
    if (!failure.empty()) {
        ::unlink(path.c_str());
        fail(failure);
    }
    try {
        UniqueFd netns = open_fd(path, O_RDONLY);
        RouteNetlink(netns.get()).set_up("lo");
        return netns;
    } catch (...) {
        remove_network_namespace(path);
        throw;
    }
}

UniqueFd new_network_namespace() {
    // unshare moves only the calling thread: a short-lived thread makes it.
    UniqueFd netns;
    std::string failure;
    std::thread maker([&] {
        try {
            if (::unshare(CLONE_NEWNET) < 0) throw_errno("creating a network namespace");
            netns = open_fd("/proc/thread-self/ns/net", O_RDONLY);
        } catch (const Error& error) {
            failure = error.what();
        }
    });
    maker.join();
    if (!failure.empty()) fail(failure);
    RouteNetlink(netns.get()).set_up("lo");
    return netns;
}

UniqueFd hold_network_namespace(const std::string& source, const std::string& path) {
    {
        int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) throw_errno("creating " + path);
        ::close(fd);
    }
    if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        int error = errno;
        ::unlink(path.c_str());
        throw_errno("bind-mounting " + source + " on " + path, error);
    }
    try {
        return open_fd(path, O_RDONLY);
    } catch (...) {
        remove_network_namespace(path);
        throw;
    }
}

void remove_network_namespace(const std::string& path) {
    if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        throw_errno("unmounting the network namespace " + path);
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw_errno("removing " + path);
}

} // namespace berth::network
