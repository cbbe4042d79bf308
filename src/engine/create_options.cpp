// The parts of Engine::create that the ContainerOptions need with the rootfs
// mounted: volumes and bind sources, --group-add names, --init's binary.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/text.h"
#include "berth/engine/engine.h"
#include "berth/engine/user_lookup.h"

#include <charconv>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

#ifndef BERTH_INIT_INSTALL_PATH
#define BERTH_INIT_INSTALL_PATH "/usr/local/libexec/berth/berth-init"
#endif

namespace berth::engine {

namespace {

std::optional<std::uint32_t> as_number(const std::string& text) {
    std::uint32_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

// Group names from the image's own /etc/group, as Docker resolves them.
std::vector<std::uint32_t> resolve_groups(const std::vector<std::string>& groups,
                                          const std::string& rootfs) {
    std::vector<std::uint32_t> gids;
    std::string group_file;
    bool read = false;
    for (const auto& group : groups) {
        if (auto number = as_number(group)) {
            gids.push_back(*number);
            continue;
        }
        if (!read) {
            UniqueFd root = open_fd(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
            group_file = read_file_in_root(root.get(), "/etc/group");
            read = true;
        }
        bool found = false;
        for (const auto& line : split_lines(group_file)) {
            auto fields = split(line, ':');
            if (fields.size() >= 3 && fields[0] == group) {
                if (auto gid = as_number(fields[2])) {
                    gids.push_back(*gid);
                    found = true;
                    break;
                }
            }
        }
        if (!found)
            fail("--group-add " + group + ": unable to find group " + group +
                 ": no matching entries in group file");
    }
    return gids;
}

// berth-init: $BERTH_INIT, else beside the running berth, else where it is installed.
std::string find_init() {
    if (const char* from_env = std::getenv("BERTH_INIT"); from_env && *from_env) {
        if (::access(from_env, X_OK) < 0)
            throw_errno(std::string("--init: BERTH_INIT=") + from_env);
        return from_env;
    }
    char self[PATH_MAX] = {};
    ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (length > 0) {
        std::string beside = std::string(self, static_cast<std::size_t>(length));
        beside = beside.substr(0, beside.rfind('/') + 1) + "berth-init";
        if (::access(beside.c_str(), X_OK) == 0) return beside;
    }
    if (::access(BERTH_INIT_INSTALL_PATH, X_OK) == 0) return BERTH_INIT_INSTALL_PATH;
    fail("--init: berth-init is not installed (looked beside berth and at " +
         std::string(BERTH_INIT_INSTALL_PATH) + "; set BERTH_INIT to its path)");
}

} // namespace

void Engine::prepare_options(const RunRequest& request, const std::string& rootfs,
                             SpecInputs& inputs, std::vector<std::string>& created_volumes) {
    const auto& options = request.options;
    if (!options.group_add.empty()) inputs.extra_gids = resolve_groups(options.group_add, rootfs);
    if (options.init) inputs.init_path = find_init();
    inputs.mounts = setup_mounts(request, rootfs, created_volumes);
}

} // namespace berth::engine
