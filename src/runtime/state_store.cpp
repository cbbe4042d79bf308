#include "state_store.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

oci::Status status_from_name(const std::string& name) {
    for (auto status : {oci::Status::creating, oci::Status::created, oci::Status::running})
        if (name == oci::status_name(status)) return status;
    return oci::Status::stopped;
}

constexpr unsigned long exiting_flag = 0x4; // PF_EXITING

// Reads /proc/PID/stat's state letter, flags and start time.
bool read_stat(pid_t pid, char& state, unsigned long& flags, unsigned long long& start_time) {
    int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buffer[1024];
    ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    if (n <= 0) return false;
    buffer[n] = '\0';
    // The command name may hold spaces and ')'; the fields start after the last ')'.
    std::string text(buffer);
    auto paren = text.rfind(')');
    if (paren == std::string::npos || paren + 2 >= text.size()) return false;
    state = text[paren + 2];
    // Fields after ')' start at 3 (state); flags are field 9, start time 22.
    std::size_t position = paren + 2;
    for (int field = 3; field < 22; ++field) {
        position = text.find(' ', position);
        if (position == std::string::npos) return false;
        ++position;
        if (field + 1 == 9) flags = std::stoul(text.substr(position));
    }
    start_time = std::stoull(text.substr(position));
    return true;
}

} // namespace

void validate_container_id(const std::string& id) {
    bool valid = !id.empty() && id[0] != '.' && id.size() <= 1024;
    for (char c : id)
        valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' ||
                 c == '.';
    if (!valid) fail("invalid container id \"" + id + "\"");
}

bool process_is_alive(pid_t pid, unsigned long long start_time) {
    if (pid <= 0) return false;
    char state;
    unsigned long flags = 0;
    unsigned long long actual_start;
    if (!read_stat(pid, state, flags, actual_start)) return false;
    if (state == 'Z' || state == 'X') return false;
    // An init that is exiting may wait long in the kernel for its namespace's
    // zombies to be reaped by someone else; it runs nothing any more.
    if (flags & exiting_flag) return false;
    return start_time == 0 || start_time == actual_start;
}

unsigned long long process_start_time(pid_t pid) {
    char state;
    unsigned long flags = 0;
    unsigned long long start_time = 0;
    read_stat(pid, state, flags, start_time);
    return start_time;
}

ContainerRecord ContainerDir::read_record() const {
    if (!path_exists(file("state.json"))) {
        // A `create` before its first write holds the lock; one killed there
        // left nothing that ran, nothing to keep.
        ContainerRecord leftover;
        leftover.state.id = path_.substr(path_.find_last_of('/') + 1);
        bool being_created = ::flock(fd_.get(), LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
        leftover.state.status = being_created ? oci::Status::creating : oci::Status::stopped;
        return leftover;
    }
    std::string text = read_file(file("state.json"));
    nlohmann::json in = nlohmann::json::parse(text, nullptr, false);
    if (in.is_discarded() || !in.is_object()) fail("the state of " + path_ + " is damaged");
    ContainerRecord record;
    oci::State& state = record.state;
    state.oci_version = in.value("ociVersion", "");
    state.id = in.value("id", "");
    state.status = status_from_name(in.value("status", ""));
    state.pid = in.value("pid", 0);
    state.bundle = in.value("bundle", "");
    state.rootfs = in.value("rootfs", "");
    state.created = in.value("created", "");
    state.owner = in.value("owner", "");
    if (in.contains("annotations") && in["annotations"].is_object())
        state.annotations = in["annotations"].get<std::map<std::string, std::string>>();
    record.pid_start_time = in.value("pidStartTime", 0ULL);
    record.creator_pid = in.value("creatorPid", 0);
    record.creator_start_time = in.value("creatorStartTime", 0ULL);
    // A record of an older berth kept the config inside: its hooks unknown.
    bool config_inside = in.contains("config");
    record.poststart_hooks = in.value("poststartHooks", config_inside);
    record.poststop_hooks = in.value("poststopHooks", config_inside);
    record.cgroup_json = in.value("cgroup", "");
    return record;
}

void ContainerDir::write_config(const std::string& text) const {
    write_file_atomic(file("config.json"), text, 0600);
}

std::string ContainerDir::read_config() const {
    if (path_exists(file("config.json"))) return read_file(file("config.json"));
    nlohmann::json in = nlohmann::json::parse(read_file(file("state.json")), nullptr, false);
    if (!in.is_object() || !in.contains("config")) fail("the config of " + path_ + " is missing");
    return in.value("config", "");
}

void ContainerDir::write_record(const ContainerRecord& record) const {
    const oci::State& state = record.state;
    nlohmann::ordered_json out;
    out["ociVersion"] = state.oci_version;
    out["id"] = state.id;
    out["status"] = oci::status_name(state.status);
    out["pid"] = state.pid;
    out["bundle"] = state.bundle;
    out["rootfs"] = state.rootfs;
    out["created"] = state.created;
    out["owner"] = state.owner;
    out["annotations"] = state.annotations;
    out["pidStartTime"] = record.pid_start_time;
    out["creatorPid"] = record.creator_pid;
    out["creatorStartTime"] = record.creator_start_time;
    out["poststartHooks"] = record.poststart_hooks;
    out["poststopHooks"] = record.poststop_hooks;
    out["cgroup"] = record.cgroup_json;
    write_file_atomic(file("state.json"), out.dump(), 0600);
}

oci::Status ContainerDir::current_status(const ContainerRecord& record) const {
    switch (record.state.status) {
    case oci::Status::creating:
        // No creator recorded: the directory is locked by a create that has
        // not written its record yet (see read_record).
        if (record.creator_pid == 0) return oci::Status::creating;
        return process_is_alive(record.creator_pid, record.creator_start_time)
                   ? oci::Status::creating
                   : oci::Status::stopped;
    case oci::Status::stopped:
        return oci::Status::stopped;
    case oci::Status::created:
    case oci::Status::running:
    case oci::Status::paused: // never recorded; read from the freezer
        if (!process_is_alive(record.state.pid, record.pid_start_time)) return oci::Status::stopped;
        // `start` removes the fifo once the init has been released.
        return path_exists(file("exec.fifo")) ? oci::Status::created : oci::Status::running;
    }
    return oci::Status::stopped;
}

void ContainerDir::release_init(const std::string& id) const {
    int fifo = ::open(file("exec.fifo").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fifo < 0) {
        if (errno == ENXIO) fail("cannot start container \"" + id + "\": its process has exited");
        throw_errno("opening exec.fifo of " + id);
    }
    UniqueFd fifo_fd(fifo);
    write_all(fifo, "0", "exec.fifo");
    fifo_fd.reset();
    ::unlink(file("exec.fifo").c_str());
}

void ContainerDir::remove() {
    remove_tree(path_);
    fd_.reset();
}

StateStore::StateStore(std::string root) : root_(std::move(root)) {}

ContainerDir StateStore::create(const std::string& id) {
    validate_container_id(id);
    make_directories(root_, 0711);
    std::string path = root_ + "/" + id;
    if (::mkdir(path.c_str(), 0711) < 0) {
        if (errno == EEXIST) fail("container with id \"" + id + "\" already exists");
        throw_errno("creating " + path);
    }
    UniqueFd fd = open_fd(path, O_RDONLY | O_DIRECTORY);
    if (::flock(fd.get(), LOCK_EX) < 0) throw_errno("locking " + path);
    return ContainerDir(path, std::move(fd));
}

ContainerDir StateStore::open_for_reading(const std::string& id) {
    validate_container_id(id);
    std::string path = root_ + "/" + id;
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) fail("container \"" + id + "\" does not exist");
        throw_errno("opening " + path);
    }
    return ContainerDir(path, UniqueFd(fd));
}

ContainerDir StateStore::open(const std::string& id) {
    ContainerDir dir = open_for_reading(id);
    int fd = dir.fd();
    const std::string& path = dir.path();
    if (::flock(fd, LOCK_EX) < 0) throw_errno("locking " + path);
    // Deleted while we waited for the lock?
    struct stat st;
    if (::fstat(fd, &st) < 0 || st.st_nlink == 0) fail("container \"" + id + "\" does not exist");
    return dir;
}

bool StateStore::exists(const std::string& id) const {
    validate_container_id(id);
    return path_exists(root_ + "/" + id);
}

std::vector<std::string> StateStore::ids() const {
    std::vector<std::string> out;
    DIR* dir = ::opendir(root_.c_str());
    if (!dir) return out;
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name[0] != '.' && entry->d_type == DT_DIR) out.push_back(name);
    }
    ::closedir(dir);
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace berth::runtime
