#include "filter_cache.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/log.h"
#include "berth/base/syscalls.h"

#include <nlohmann/json.hpp>
#include <seccomp.h>

#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::runtime::seccomp {

namespace {

// Bumped whenever the way a profile becomes a program changes.
constexpr const char* cache_format = "berth seccomp program cache 1";

// Owned by us and writable by nobody else, or not to be trusted.
bool trustworthy(const struct stat& status) {
    return status.st_uid == ::geteuid() && (status.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

std::string file_name(const std::string& key) {
    // FNV-1a only spreads keys over names; the key inside decides a hit.
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : key)
        hash = (hash ^ c) * 0x100000001b3ULL;
    char name[32];
    std::snprintf(name, sizeof name, "%016llx.bpf", static_cast<unsigned long long>(hash));
    return name;
}

void put_u32(std::string& out, std::uint32_t value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
}
void put_text(std::string& out, const std::string& text) {
    put_u32(out, static_cast<std::uint32_t>(text.size()));
    out += text;
}

// Reads the fields back in order; any shortfall makes the whole file a miss.
class Reader {
  public:
    explicit Reader(std::string_view data) : data_(data) {}
    bool u32(std::uint32_t& value) { return bytes(&value, sizeof value); }
    bool text(std::string& out) {
        std::uint32_t size;
        if (!u32(size) || size > data_.size()) return false;
        out.assign(data_.substr(0, size));
        data_.remove_prefix(size);
        return true;
    }
    bool bytes(void* out, std::size_t size) {
        if (size > data_.size()) return false;
        std::memcpy(out, data_.data(), size);
        data_.remove_prefix(size);
        return true;
    }
    bool at_end() const { return data_.empty(); }

  private:
    std::string_view data_;
};

} // namespace

std::string cache_key(const nlohmann::json& seccomp) {
    const scmp_version* version = seccomp_version();
    return std::string(cache_format) + "\nlibseccomp " + std::to_string(version->major) + "." +
           std::to_string(version->minor) + "." + std::to_string(version->micro) +
           "\narchitecture " + std::to_string(seccomp_arch_native()) + "\n" + seccomp.dump();
}

std::optional<BpfProgram> read_cached_program(const std::string& directory,
                                              const std::string& key) {
    struct stat status;
    if (::stat(directory.c_str(), &status) < 0 || !S_ISDIR(status.st_mode) || !trustworthy(status))
        return std::nullopt;
    std::string path = directory + "/" + file_name(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    UniqueFd file(fd);
    if (::fstat(fd, &status) < 0 || !S_ISREG(status.st_mode) || !trustworthy(status))
        return std::nullopt;
    std::string data;
    try {
        data = read_all(fd);
    } catch (const Error&) {
        return std::nullopt;
    }
    Reader reader(data);
    std::string stored_key;
    if (!reader.text(stored_key) || stored_key != key) return std::nullopt;
    BpfProgram program;
    std::uint32_t count;
    if (!reader.u32(count) || count > data.size()) return std::nullopt;
    program.skipped_syscalls.resize(count);
    for (auto& name : program.skipped_syscalls)
        if (!reader.text(name)) return std::nullopt;
    if (!reader.u32(count) || count > BPF_MAXINSNS) return std::nullopt;
    program.instructions.resize(count);
    if (!reader.bytes(program.instructions.data(), count * sizeof(sock_filter)) || !reader.at_end())
        return std::nullopt;
    return program;
}

void write_cached_program(const std::string& directory, const std::string& key,
                          const BpfProgram& program) {
    std::string data;
    put_text(data, key);
    put_u32(data, static_cast<std::uint32_t>(program.skipped_syscalls.size()));
    for (const auto& name : program.skipped_syscalls)
        put_text(data, name);
    put_u32(data, static_cast<std::uint32_t>(program.instructions.size()));
    data.append(reinterpret_cast<const char*>(program.instructions.data()),
                program.instructions.size() * sizeof(sock_filter));
    try {
        make_directories(directory, 0700);
        struct stat status;
        if (::stat(directory.c_str(), &status) < 0 || !trustworthy(status)) {
            log::debug("seccomp: not caching programs in " + directory +
                       ": it is not this user's alone");
            return;
        }
        write_file_atomic(directory + "/" + file_name(key), data, 0600);
    } catch (const Error& error) {
        log::debug(std::string("seccomp: not caching the compiled program: ") + error.what());
    }
}

} // namespace berth::runtime::seccomp
