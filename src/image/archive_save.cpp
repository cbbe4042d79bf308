// `berth save`: an OCI image layout (oci-layout, index.json, blobs) plus
// Docker's manifest.json, as one tar stream or as a directory.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/archive.h"
#include "berth/image/tar_writer.h"
#include "berth/oci/reference.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <set>
#include <unistd.h>

namespace berth::image {

namespace {

// Where saved files go: a tar stream or a directory.
class LayoutSink {
  public:
    virtual ~LayoutSink() = default;
    virtual void directory(const std::string& path) = 0;
    virtual void file(const std::string& path, std::string_view contents) = 0;
    virtual void blob(const std::string& path, int fd, std::uint64_t size) = 0;
    virtual void finish() {}
};

class TarSink : public LayoutSink {
  public:
    explicit TarSink(int fd) : writer_(fd) {}
    void directory(const std::string& path) override { writer_.directory(path); }
    void file(const std::string& path, std::string_view contents) override {
        writer_.file(path, contents, 0644);
    }
    void blob(const std::string& path, int fd, std::uint64_t size) override {
        writer_.file_from_fd(path, fd, size, 0644);
    }
    void finish() override { writer_.finish(); }

  private:
    TarWriter writer_;
};

class DirectorySink : public LayoutSink {
  public:
    explicit DirectorySink(std::string root) : root_(std::move(root)) { make_directories(root_); }
    void directory(const std::string& path) override { make_directories(root_ + "/" + path); }
    void file(const std::string& path, std::string_view contents) override {
        write_file_atomic(root_ + "/" + path, contents, 0644);
    }
    void blob(const std::string& path, int fd, std::uint64_t) override {
        std::string target = root_ + "/" + path;
        if (path_exists(target)) return;
        UniqueFd out = open_fd(target + ".tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::string chunk(1 << 20, '\0');
        for (;;) {
            ssize_t n = ::read(fd, chunk.data(), chunk.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno("reading " + path);
            if (n == 0) break;
            write_all(out.get(), std::string_view(chunk.data(), static_cast<std::size_t>(n)),
                      target);
        }
        if (::rename((target + ".tmp").c_str(), target.c_str()) < 0)
            throw_errno("writing " + target);
    }

  private:
    std::string root_;
};

} // namespace

void save_images(ImageStore& store, const std::vector<std::string>& references, SaveFormat format,
                 int fd, const std::string& directory) {
    std::unique_ptr<LayoutSink> sink;
    if (format == SaveFormat::oci_directory)
        sink = std::make_unique<DirectorySink>(directory);
    else
        sink = std::make_unique<TarSink>(fd);

    oci::Index index;
    index.media_type = oci::media_type::oci_index;
    nlohmann::json docker_manifest = nlohmann::json::array();
    std::vector<oci::Digest> blobs;
    std::set<oci::Digest> seen;
    auto want = [&](const oci::Digest& digest) {
        if (seen.insert(digest).second) blobs.push_back(digest);
    };

    for (const auto& reference : references) {
        Image image = store.resolve(reference);
        // The name the user gave becomes the tag; an ID saves the image untagged.
        std::optional<oci::Reference> name;
        try {
            oci::Reference parsed = oci::parse_reference(reference);
            if (!parsed.digest && std::find(image.names.begin(), image.names.end(),
                                            parsed.tagged_name()) != image.names.end())
                name = parsed;
        } catch (const Error&) {
        }
        oci::Descriptor descriptor;
        descriptor.media_type = image.manifest.media_type;
        descriptor.digest = image.manifest_digest;
        descriptor.size = static_cast<std::int64_t>(store.blobs().size(image.manifest_digest));
        nlohmann::json repo_tags = nlohmann::json::array();
        if (name) {
            descriptor.annotations["io.containerd.image.name"] = name->tagged_name();
            descriptor.annotations["org.opencontainers.image.ref.name"] = name->tag;
            repo_tags.push_back(name->familiar_name() + ":" + name->tag);
        }
        index.manifests.push_back(descriptor);

        want(image.manifest_digest);
        want(image.manifest.config.digest);
        nlohmann::json layers = nlohmann::json::array();
        for (const auto& layer : image.manifest.layers) {
            want(layer.digest);
            layers.push_back("blobs/sha256/" + layer.digest.hex());
        }
        docker_manifest.push_back({{"Config", "blobs/sha256/" + image.manifest.config.digest.hex()},
                                   {"RepoTags", repo_tags},
                                   {"Layers", layers}});
    }

    sink->file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    sink->directory("blobs");
    sink->directory("blobs/sha256");
    for (const auto& digest : blobs) {
        UniqueFd blob = store.blobs().open(digest);
        sink->blob("blobs/sha256/" + digest.hex(), blob.get(), store.blobs().size(digest));
    }
    sink->file("index.json", oci::index_to_json(index));
    if (format != SaveFormat::oci_archive && format != SaveFormat::oci_directory)
        sink->file("manifest.json", docker_manifest.dump());
    sink->finish();
}

} // namespace berth::image
