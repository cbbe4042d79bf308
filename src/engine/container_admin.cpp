// Engine::rename, processes (for top) and prune_containers.
#include "berth/base/error.h"
#include "berth/engine/engine.h"
#include "berth/engine/identity.h"
#include "berth/runtime/runtime.h"
#include "container_runtime.h"

#include <filesystem>

namespace berth::engine {

void Engine::rename(const std::string& reference, const std::string& new_name) {
    ContainerRecord record = get(reference);
    std::string name = new_name.starts_with("/") ? new_name.substr(1) : new_name;
    if (!is_valid_container_name(name))
        fail("invalid container name (" + new_name +
             "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    if (name == record.name) fail("Renaming a container with the same name as its current name");
    containers().rename(record.id, name);
}

std::vector<pid_t> Engine::processes(const std::string& reference) {
    ContainerRecord record = get(reference);
    if (record.state != ContainerState::running) fail("container " + record.id + " is not running");
    return runtime_of_container(options_.run_root, record)->processes(record.id);
}

std::uint64_t Engine::container_size(const std::string& id) const {
    namespace fs = std::filesystem;
    std::uint64_t total = 0;
    std::error_code error;
    std::string upper = container_dir(id) + "/upper";
    for (auto it = fs::recursive_directory_iterator(upper, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error))
        if (it->is_regular_file(error) && !it->is_symlink(error)) total += it->file_size(error);
    return total;
}

std::vector<std::string>
Engine::prune_containers(std::uint64_t& bytes_freed,
                         const std::function<bool(const ContainerRecord&)>& wanted) {
    std::vector<std::string> removed;
    bytes_freed = 0;
    for (const auto& record : list()) {
        if (record.state != ContainerState::exited && record.state != ContainerState::created)
            continue;
        if (wanted && !wanted(record)) continue;
        std::uint64_t size = container_size(record.id);
        try {
            remove(record.id, false, false);
            removed.push_back(record.id);
            bytes_freed += size;
        } catch (const Error&) {
            // Started or removed meanwhile: not ours to prune.
        }
    }
    return removed;
}

} // namespace berth::engine
