#include "teardown.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/image/rootfs.h"
#include "berth/runtime/runtime.h"

#include <exception>

namespace berth::engine {

void release_container(const std::string& runtime_root, const std::string& id,
                       const std::string& container_dir) {
    std::exception_ptr first;
    try {
        runtime::Runtime(runtime_root).remove(id, true);
    } catch (...) {
        first = std::current_exception();
    }
    try {
        image::unmount_rootfs(container_dir);
    } catch (...) {
        if (!first) first = std::current_exception();
    }
    if (first) std::rethrow_exception(first);
}

void delete_container_files(const std::string& runtime_root, const std::string& id,
                            const std::string& container_dir) {
    release_container(runtime_root, id, container_dir);
    if (path_exists(container_dir)) remove_tree(container_dir);
}

} // namespace berth::engine
