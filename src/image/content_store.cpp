#include "berth/image/content_store.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::image {

namespace {

constexpr const char* temporary_prefix = ".ingest-";

std::string random_suffix() {
    static thread_local std::mt19937_64 generator{std::random_device{}()};
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(generator()));
    return text;
}

} // namespace

// Where a blob is written before it has a name: an anonymous O_TMPFILE when the
// filesystem has them (a crash leaves nothing), else a named temporary file.
struct PendingBlob {
    UniqueFd fd;
    std::string temporary_path; // empty for O_TMPFILE

    PendingBlob(const std::string& directory) {
        int anonymous = ::open(directory.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        if (anonymous >= 0) {
            fd.reset(anonymous);
            return;
        }
        temporary_path = directory + "/" + temporary_prefix + random_suffix();
        fd = open_fd(temporary_path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    }
    ~PendingBlob() {
        if (!temporary_path.empty()) ::unlink(temporary_path.c_str());
    }

    void publish(const std::string& final_path) {
        if (::fsync(fd.get()) < 0) throw_errno("syncing blob " + final_path);
        if (temporary_path.empty()) {
            std::string self = "/proc/self/fd/" + std::to_string(fd.get());
            if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, final_path.c_str(), AT_SYMLINK_FOLLOW) <
                    0 &&
                errno != EEXIST) // the same content, stored by someone else meanwhile
                throw_errno("storing blob " + final_path);
            return;
        }
        if (::rename(temporary_path.c_str(), final_path.c_str()) < 0)
            throw_errno("storing blob " + final_path);
        temporary_path.clear();
    }
};

BlobWriter::BlobWriter(const std::string& directory)
    : directory_(directory), pending_(std::make_unique<PendingBlob>(directory)) {}
BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;
BlobWriter::~BlobWriter() = default;

void BlobWriter::write(std::string_view data) {
    if (!pending_) fail("writing a blob already committed");
    hash_.update(data);
    bytes_ += data.size();
    write_all(pending_->fd.get(), data, "a new blob");
}

oci::Digest BlobWriter::commit(const std::optional<oci::Digest>& expected,
                               std::int64_t expected_size) {
    if (!pending_) fail("committing a blob twice");
    std::unique_ptr<PendingBlob> pending = std::move(pending_);
    oci::Digest digest = hash_.finish();
    if (expected && digest != *expected)
        fail("blob content does not match its digest: expected " + expected->str() + ", got " +
             digest.str());
    if (expected_size >= 0 && bytes_ != static_cast<std::uint64_t>(expected_size))
        fail("blob " + digest.str() + " has " + std::to_string(bytes_) + " bytes, not the " +
             std::to_string(expected_size) + " announced");
    pending->publish(directory_ + "/" + digest.hex());
    return digest;
}

ContentStore::ContentStore(const std::string& root) : directory_(root + "/blobs/sha256") {
    make_directories(directory_, 0700);
}

std::string ContentStore::path(const oci::Digest& digest) const {
    return directory_ + "/" + digest.hex();
}

bool ContentStore::has(const oci::Digest& digest) const {
    return path_exists(path(digest));
}

std::uint64_t ContentStore::size(const oci::Digest& digest) const {
    struct stat st;
    if (::stat(path(digest).c_str(), &st) < 0) throw_errno("blob " + digest.str());
    return static_cast<std::uint64_t>(st.st_size);
}

UniqueFd ContentStore::open(const oci::Digest& digest) const {
    int fd = ::open(path(digest).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno("opening blob " + digest.str());
    return UniqueFd(fd);
}

std::string ContentStore::read(const oci::Digest& digest, std::size_t limit) const {
    UniqueFd fd = open(digest);
    FdSource source(fd.get(), "blob " + digest.str());
    std::string data = read_to_string(source, limit, "blob " + digest.str());
    if (oci::sha256_of(data) != digest)
        fail("blob " + digest.str() + " is corrupt: its content no longer matches its digest");
    return data;
}

oci::Digest ContentStore::put(std::string_view data) {
    MemorySource source(data);
    return ingest(source);
}

oci::Digest ContentStore::ingest(ByteSource& source, const std::optional<oci::Digest>& expected,
                                 std::int64_t expected_size) {
    if (expected && has(*expected)) {
        drain(source);
        return *expected;
    }
    PendingBlob pending(directory_);
    DigestingSource hashed(source);
    std::vector<char> buffer(1 << 20);
    while (std::size_t n = hashed.read(buffer.data(), buffer.size())) {
        if (expected_size >= 0 && hashed.bytes() > static_cast<std::uint64_t>(expected_size))
            fail("blob is larger than the " + std::to_string(expected_size) + " bytes announced");
        write_all(pending.fd.get(), std::string_view(buffer.data(), n), "a new blob");
    }
    oci::Digest digest = hashed.finish();
    if (expected && digest != *expected)
        fail("blob content does not match its digest: expected " + expected->str() + ", got " +
             digest.str());
    if (expected_size >= 0 && hashed.bytes() != static_cast<std::uint64_t>(expected_size))
        fail("blob " + digest.str() + " has " + std::to_string(hashed.bytes()) +
             " bytes, not the " + std::to_string(expected_size) + " announced");
    pending.publish(path(digest));
    return digest;
}

std::vector<oci::Digest> ContentStore::list() const {
    std::vector<oci::Digest> digests;
    DIR* dir = ::opendir(directory_.c_str());
    if (!dir) throw_errno("listing " + directory_);
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name.size() == 64 && oci::Digest::is_valid("sha256:" + name))
            digests.push_back(oci::Digest::from_sha256_hex(name));
    }
    ::closedir(dir);
    return digests;
}

void ContentStore::remove(const oci::Digest& digest) {
    if (::unlink(path(digest).c_str()) < 0 && errno != ENOENT)
        throw_errno("removing blob " + digest.str());
}

void ContentStore::remove_stale_temporaries() {
    DIR* dir = ::opendir(directory_.c_str());
    if (!dir) throw_errno("listing " + directory_);
    std::vector<std::string> stale;
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name.rfind(temporary_prefix, 0) == 0) stale.push_back(directory_ + "/" + name);
    }
    ::closedir(dir);
    for (const auto& path : stale)
        ::unlink(path.c_str());
}

} // namespace berth::image
