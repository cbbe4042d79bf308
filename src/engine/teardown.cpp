#include "teardown.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/engine/network_store.h"
#include "berth/image/rootfs.h"
#include "berth/runtime/runtime.h"
#include "container_network.h"

#include <exception>

namespace berth::engine {

std::string run_root_of(const std::string& runtime_root) {
    return runtime_root.substr(0, runtime_root.rfind('/'));
}

void release_container(image::Database& database, const std::string& runtime_root,
                       const std::string& id, const std::string& container_dir) {
    std::exception_ptr first;
    try {
        runtime::Runtime(runtime_root).remove(id, true);
    } catch (...) {
        first = std::current_exception();
    }
    try {
        disconnect_container(database, run_root_of(runtime_root), id);
    } catch (...) {
        if (!first) first = std::current_exception();
    }
    try {
        image::unmount_rootfs(container_dir);
    } catch (...) {
        if (!first) first = std::current_exception();
    }
    if (first) std::rethrow_exception(first);
}

void delete_container_files(image::Database& database, const std::string& runtime_root,
                            const std::string& id, const std::string& container_dir) {
    release_container(database, runtime_root, id, container_dir);
    NetworkStore(database).forget_container(id);
    if (path_exists(container_dir)) remove_tree(container_dir);
}

} // namespace berth::engine
