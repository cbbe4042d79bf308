// Choosing a container's runtime, and berth's own behind the interface.
#include "container_runtime.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/runtime/runtime.h"
#include "oci_runtime_cli.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::engine {

namespace {

// The runtime library, in this process: no exec of another binary.
class InProcessRuntime final : public ContainerRuntime {
  public:
    explicit InProcessRuntime(std::string state_root) : runtime_(std::move(state_root)) {}

    UniqueFd create(const std::string& id, const std::string& bundle, bool tty,
                    const CreateHelp& help) override {
        runtime::CreateOptions options = options_for(id, bundle, help);
        if (tty) return runtime_.create_keeping_console(options);
        runtime_.create(options);
        return UniqueFd();
    }
    void start(const std::string& id) override { runtime_.start(id); }
    UniqueFd create_and_start(const std::string& id, const std::string& bundle, bool tty,
                              const CreateHelp& help) override {
        return runtime_.create_and_start(options_for(id, bundle, help), tty);
    }
    oci::State state(const std::string& id) override { return runtime_.state(id); }
    void kill(const std::string& id, int signal) override { runtime_.kill(id, signal, false); }
    void remove(const std::string& id, bool force) override { runtime_.remove(id, force); }
    void pause(const std::string& id) override { runtime_.pause(id); }
    void resume(const std::string& id) override { runtime_.resume(id); }
    int exec(const runtime::ExecOptions& options) override { return runtime_.exec(options); }
    std::vector<pid_t> processes(const std::string& id) override { return runtime_.processes(id); }
    std::string stats(const std::string& id) override { return runtime_.stats(id); }

  private:
    static runtime::CreateOptions options_for(const std::string& id, const std::string& bundle,
                                              const CreateHelp& help) {
        runtime::CreateOptions options;
        options.id = id;
        options.bundle = bundle;
        options.while_init_mounts = help.while_init_mounts;
        options.network_namespace_fd = help.network_namespace_fd;
        return options;
    }

    runtime::Runtime runtime_;
};

bool is_executable_file(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
}

bool found_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
        std::size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = dirs.substr(start, end - start);
        if (!dir.empty() && is_executable_file(dir + "/" + name)) return true;
        start = end + 1;
    }
    return false;
}

// A runtime named by path keeps its state apart from one of the same name.
std::string state_dir_name(const std::string& name) {
    std::string dir = name;
    for (char& c : dir)
        if (c == '/') c = '_';
    return dir;
}

} // namespace

std::string resolve_runtime_name(const std::string& name) {
    std::string chosen = name;
    if (chosen.empty()) {
        const char* from_env = std::getenv("BERTH_RUNTIME");
        chosen = from_env && *from_env ? from_env : default_runtime_name;
    }
    if (chosen == default_runtime_name) return chosen;
    bool known = chosen.find('/') == std::string::npos
                     ? found_in_path(chosen)
                     : chosen.front() == '/' && is_executable_file(chosen);
    if (!known) fail("unknown or invalid runtime name: " + chosen);
    return chosen;
}

std::unique_ptr<ContainerRuntime> open_container_runtime(const std::string& run_root,
                                                         const std::string& name) {
    if (name.empty() || name == default_runtime_name)
        return std::make_unique<InProcessRuntime>(run_root + "/runtime");
    return std::make_unique<OciRuntimeCli>(name, run_root + "/runtimes/" + state_dir_name(name));
}

std::unique_ptr<ContainerRuntime> runtime_of_container(const std::string& run_root,
                                                       const ContainerRecord& record) {
    auto request = nlohmann::json::parse(record.config_json, nullptr, false);
    std::string name = request.is_object() ? request.value("runtime", "") : "";
    return open_container_runtime(run_root, name);
}

} // namespace berth::engine
