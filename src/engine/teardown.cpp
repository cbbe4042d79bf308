#include "teardown.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/engine/network_store.h"
#include "berth/image/rootfs.h"
#include "container_network.h"
#include "container_runtime.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <sys/stat.h>

namespace berth::engine {

std::string run_root_of(const std::string& runtime_root) {
    return runtime_root.substr(0, runtime_root.rfind('/'));
}

std::string container_runtime_name(image::Database& database, const std::string& id) {
    image::Statement statement = database.prepare("SELECT config FROM containers WHERE id = ?1");
    statement.bind(1, id);
    if (!statement.step()) return default_runtime_name;
    auto request = nlohmann::json::parse(statement.text(0), nullptr, false);
    if (!request.is_object()) return default_runtime_name;
    std::string name = request.value("runtime", "");
    return name.empty() ? default_runtime_name : name;
}

void release_container(image::Database& database, const std::string& runtime_root,
                       const std::string& id, const std::string& container_dir) {
    std::exception_ptr first;
    try {
        open_container_runtime(run_root_of(runtime_root), container_runtime_name(database, id))
            ->remove(id, true);
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

std::string delete_container_files(image::Database& database, const std::string& runtime_root,
                                   const std::string& id, const std::string& container_dir) {
    release_container(database, runtime_root, id, container_dir);
    return discard_container_files(database, id, container_dir);
}

std::string discard_container_files(image::Database& database, const std::string& id,
                                    const std::string& container_dir) {
    NetworkStore(database).forget_container(id);
    // <root>/containers/<id> → <root>/trash/<id>, on the same filesystem.
    std::filesystem::path trash =
        std::filesystem::path(container_dir).parent_path().parent_path() / "trash";
    std::string discarded = trash / id;
    if (!path_exists(container_dir)) return discarded;
    make_directories(trash, 0700);
    if (path_exists(discarded)) remove_tree(discarded);
    if (::rename(container_dir.c_str(), discarded.c_str()) < 0)
        throw_errno("moving " + container_dir + " to the trash");
    return discarded;
}

void empty_trash(const std::string& discarded) {
    try {
        if (path_exists(discarded)) remove_tree(discarded);
    } catch (const Error& error) {
        std::fprintf(stderr, "berth: emptying the trash: %s\n", error.what());
    }
    // A rename into the trash sets the entry's ctime: older than a minute,
    // no running command owns it any more.
    std::string trash_dir = std::filesystem::path(discarded).parent_path();
    timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(trash_dir, ignored)) {
        struct stat st;
        if (::lstat(entry.path().c_str(), &st) < 0 || now.tv_sec - st.st_ctim.tv_sec < 60) continue;
        try {
            remove_tree(entry.path());
        } catch (const Error& error) {
            std::fprintf(stderr, "berth: emptying the trash: %s\n", error.what());
        }
    }
}

} // namespace berth::engine
