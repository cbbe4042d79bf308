#include "berth/image/snapshots.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::image {

namespace {

constexpr const char* temporary_prefix = ".tmp-";
constexpr const char* info_file = "snapshot.json";

std::string random_suffix() {
    static thread_local std::mt19937_64 generator{std::random_device{}()};
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(generator()));
    return text;
}

} // namespace

SnapshotStore::SnapshotStore(const std::string& root, bool durable)
    : directory_(root + "/snapshots"), durable_(durable) {
    make_directories(directory_, 0700);
}

std::string SnapshotStore::files_path(const oci::Digest& chain_id) const {
    return directory_ + "/" + chain_id.hex() + "/fs";
}

bool SnapshotStore::has(const oci::Digest& chain_id) const {
    return path_exists(directory_ + "/" + chain_id.hex() + "/" + info_file);
}

std::optional<SnapshotInfo> SnapshotStore::info(const oci::Digest& chain_id) const {
    std::string path = directory_ + "/" + chain_id.hex() + "/" + info_file;
    if (!path_exists(path)) return std::nullopt;
    auto json = nlohmann::json::parse(read_file(path), nullptr, false);
    if (json.is_discarded() || !json.is_object()) fail(path + ": corrupt");
    SnapshotInfo info;
    info.chain_id = chain_id;
    info.diff_id = oci::Digest::parse(json.value("diff_id", ""));
    info.size = json.value("size", std::uint64_t{0});
    info.entries = json.value("entries", std::uint64_t{0});
    return info;
}

SnapshotInfo SnapshotStore::ensure(const oci::Digest& chain_id, const oci::Digest& diff_id,
                                   const std::function<ApplyStats(int dir_fd)>& unpack) {
    if (auto existing = info(chain_id)) return *existing;
    return create([&](int dir_fd) {
        ApplyStats stats = unpack(dir_fd);
        return SnapshotInfo{chain_id, diff_id, stats.bytes, stats.entries};
    });
}

SnapshotInfo SnapshotStore::ensure_bottom_layer(const std::function<Unpacked(int dir_fd)>& unpack) {
    return create([&](int dir_fd) {
        Unpacked unpacked = unpack(dir_fd);
        // ChainID(L0) = DiffID(L0).
        return SnapshotInfo{unpacked.diff_id, unpacked.diff_id, unpacked.stats.bytes,
                            unpacked.stats.entries};
    });
}

SnapshotInfo SnapshotStore::create(const std::function<SnapshotInfo(int dir_fd)>& unpack) {
    std::string temporary = directory_ + "/" + temporary_prefix + random_suffix();
    if (::mkdir(temporary.c_str(), 0700) < 0) throw_errno("creating " + temporary);
    try {
        make_directories(temporary + "/fs", 0755);
        UniqueFd files = open_fd(temporary + "/fs", O_RDONLY | O_DIRECTORY);
        SnapshotInfo result = unpack(files.get());
        std::string final_path = directory_ + "/" + result.chain_id.hex();
        nlohmann::json json = {{"chain_id", result.chain_id.str()},
                               {"diff_id", result.diff_id.str()},
                               {"size", result.size},
                               {"entries", result.entries}};
        write_file_atomic(temporary + "/" + info_file, json.dump() + "\n", 0644);
        if (durable_ && ::syncfs(files.get()) < 0) throw_errno("writing snapshot to disk");
        if (::rename(temporary.c_str(), final_path.c_str()) < 0) {
            // Someone else finished the same snapshot first: theirs is as good.
            if (errno != ENOTEMPTY && errno != EEXIST)
                throw_errno("publishing snapshot " + final_path);
            remove_tree(temporary);
            if (auto theirs = info(result.chain_id)) return *theirs;
            fail("snapshot " + final_path + " exists but is incomplete");
        }
        return result;
    } catch (...) {
        try {
            remove_tree(temporary);
        } catch (const Error&) {
        }
        throw;
    }
}

std::optional<SnapshotInfo> SnapshotStore::adopt(const oci::Digest& chain_id,
                                                 const oci::Digest& diff_id,
                                                 const std::string& directory, std::uint64_t size,
                                                 std::uint64_t entries) {
    if (has(chain_id)) return std::nullopt;
    std::string temporary = directory_ + "/" + temporary_prefix + random_suffix();
    if (::mkdir(temporary.c_str(), 0700) < 0) throw_errno("creating " + temporary);
    if (::rename(directory.c_str(), (temporary + "/fs").c_str()) < 0) {
        ::rmdir(temporary.c_str());
        if (errno == EXDEV) return std::nullopt;
        throw_errno("moving " + directory + " into the snapshots");
    }
    try {
        SnapshotInfo result{chain_id, diff_id, size, entries};
        nlohmann::json json = {{"chain_id", result.chain_id.str()},
                               {"diff_id", result.diff_id.str()},
                               {"size", result.size},
                               {"entries", result.entries}};
        write_file_atomic(temporary + "/" + info_file, json.dump() + "\n", 0644);
        if (durable_) {
            UniqueFd files = open_fd(temporary + "/fs", O_RDONLY | O_DIRECTORY);
            if (::syncfs(files.get()) < 0) throw_errno("writing snapshot to disk");
        }
        std::string final_path = directory_ + "/" + chain_id.hex();
        if (::rename(temporary.c_str(), final_path.c_str()) < 0) {
            if (errno != ENOTEMPTY && errno != EEXIST)
                throw_errno("publishing snapshot " + final_path);
            remove_tree(temporary);
            return info(chain_id);
        }
        return result;
    } catch (...) {
        try {
            remove_tree(temporary);
        } catch (const Error&) {
        }
        throw;
    }
}

std::vector<oci::Digest> SnapshotStore::list() const {
    std::vector<oci::Digest> ids;
    DIR* dir = ::opendir(directory_.c_str());
    if (!dir) throw_errno("listing " + directory_);
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name.size() == 64 && oci::Digest::is_valid("sha256:" + name))
            ids.push_back(oci::Digest::from_sha256_hex(name));
    }
    ::closedir(dir);
    return ids;
}

void SnapshotStore::remove(const oci::Digest& chain_id) {
    // Renamed away first, so the snapshot vanishes at once rather than being
    // seen half-deleted; a crash leaves a temporary for the next cleanup.
    std::string path = directory_ + "/" + chain_id.hex();
    std::string doomed = directory_ + "/" + temporary_prefix + random_suffix();
    if (::rename(path.c_str(), doomed.c_str()) < 0) {
        if (errno == ENOENT) return;
        throw_errno("removing snapshot " + path);
    }
    remove_tree(doomed);
}

void SnapshotStore::remove_stale_temporaries() {
    DIR* dir = ::opendir(directory_.c_str());
    if (!dir) throw_errno("listing " + directory_);
    std::vector<std::string> stale;
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name.rfind(temporary_prefix, 0) == 0) stale.push_back(directory_ + "/" + name);
    }
    ::closedir(dir);
    for (const auto& path : stale)
        remove_tree(path);
}

} // namespace berth::image
