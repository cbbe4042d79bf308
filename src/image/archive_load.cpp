// `berth load`: docker-archive and OCI archives in one pass over the tar
// stream. Blob files are streamed straight into the content store (checked
// against the digest in their name when they have one), small JSON documents
// are kept in memory, and the images are assembled once the stream ends,
// since tar files may come in any order.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/archive.h"
#include "berth/image/decompress.h"
#include "berth/oci/platform.h"
#include "berth/oci/reference.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <map>
#include <unistd.h>

namespace berth::image {

namespace {

constexpr std::size_t max_document_size = 8 << 20;
constexpr const char* containerd_name_annotation = "io.containerd.image.name";
constexpr const char* oci_ref_name_annotation = "org.opencontainers.image.ref.name";

struct ArchiveContents {
    std::map<std::string, std::string> documents; // small files, by path
    std::map<std::string, oci::Digest> blobs;     // other files, stored, by path
    std::map<std::string, std::string> links;     // symlink path -> target path
};

// "./a//b" -> "a/b"; "a/../b" -> "b".
std::string normal_path(std::string_view raw) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= raw.size()) {
        auto slash = raw.find('/', start);
        std::string part(
            raw.substr(start, slash == std::string_view::npos ? raw.npos : slash - start));
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    std::string out;
    for (const auto& part : parts)
        out += (out.empty() ? "" : "/") + part;
    return out;
}

std::optional<oci::Digest> digest_from_blob_path(const std::string& path) {
    constexpr std::string_view prefix = "blobs/sha256/";
    if (path.rfind(prefix, 0) != 0) return std::nullopt;
    std::string hex = path.substr(prefix.size());
    if (!oci::Digest::is_valid("sha256:" + hex)) return std::nullopt;
    return oci::Digest::from_sha256_hex(hex);
}

bool is_document(const std::string& path) {
    return path == "oci-layout" || path == "repositories" || path == "VERSION" ||
           (path.size() > 5 && path.substr(path.size() - 5) == ".json") ||
           (path.size() >= 5 && path.substr(path.size() - 5) == "/json");
}

class TarBlobSource : public ByteSource {
  public:
    explicit TarBlobSource(TarReader& reader) : reader_(reader) {}
    std::size_t read(void* buffer, std::size_t size) override {
        return reader_.read_data(buffer, size);
    }

  private:
    TarReader& reader_;
};

ArchiveContents read_archive(ImageStore& store, ByteSource& stream) {
    ArchiveContents contents;
    TarReader reader(stream);
    TarEntry entry;
    while (reader.next(entry)) {
        std::string path = normal_path(entry.path);
        if (entry.type == TarEntryType::symlink || entry.type == TarEntryType::hard_link) {
            std::string base =
                path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
            contents.links[path] =
                entry.type == TarEntryType::hard_link || entry.link_target[0] == '/'
                    ? normal_path(entry.link_target)
                    : normal_path(base + "/" + entry.link_target);
            continue;
        }
        if (entry.type != TarEntryType::regular) continue;
        with_context("reading " + path + " from the archive", [&] {
            TarBlobSource data(reader);
            if (auto digest = digest_from_blob_path(path)) {
                contents.blobs[path] =
                    store.blobs().ingest(data, *digest, static_cast<std::int64_t>(entry.size));
            } else if (is_document(path) && entry.size <= max_document_size) {
                contents.documents[path] = read_to_string(data, max_document_size, path);
            } else {
                contents.blobs[path] = store.blobs().ingest(data);
            }
        });
    }
    drain(stream);
    return contents;
}

// The stored blob a path of the archive names, following symlinks (old
// docker-archives link repeated layers to their first copy).
oci::Digest blob_at(ImageStore& store, ArchiveContents& contents, std::string path) {
    for (int hops = 0; hops < 16; ++hops) {
        if (auto found = contents.blobs.find(path); found != contents.blobs.end())
            return found->second;
        if (auto found = contents.documents.find(path); found != contents.documents.end()) {
            oci::Digest digest = store.blobs().put(found->second);
            contents.blobs[path] = digest;
            return digest;
        }
        if (auto digest = digest_from_blob_path(path); digest && store.blobs().has(*digest))
            return *digest;
        auto link = contents.links.find(path);
        if (link == contents.links.end()) break;
        path = link->second;
    }
    fail("the archive has no file " + path);
}

oci::Compression stored_compression(ImageStore& store, const oci::Digest& digest) {
    UniqueFd fd = store.blobs().open(digest);
    char head[compression_magic_size] = {};
    ssize_t got = ::pread(fd.get(), head, sizeof head, 0);
    return detect_compression(std::string_view(head, got > 0 ? static_cast<std::size_t>(got) : 0));
}

const char* layer_type(oci::Compression compression) {
    switch (compression) {
    case oci::Compression::gzip:
        return oci::media_type::oci_layer_gzip;
    case oci::Compression::zstd:
        return oci::media_type::oci_layer_zstd;
    case oci::Compression::none:
        break;
    }
    return oci::media_type::oci_layer;
}

std::vector<LoadedImage> load_docker_manifest(ImageStore& store, ArchiveContents& contents,
                                              const std::string& manifest_json) {
    auto manifest = nlohmann::json::parse(manifest_json, nullptr, false);
    if (manifest.is_discarded() || !manifest.is_array()) fail("manifest.json: expected an array");
    std::vector<LoadedImage> loaded;
    for (const auto& item : manifest) {
        if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string() ||
            !item.contains("Layers") || !item["Layers"].is_array())
            fail("manifest.json: each image needs Config and Layers");
        oci::Digest config =
            blob_at(store, contents, normal_path(item["Config"].get<std::string>()));
        std::vector<oci::Descriptor> layers;
        for (const auto& layer_path : item["Layers"]) {
            if (!layer_path.is_string()) fail("manifest.json: Layers must be paths");
            oci::Descriptor layer;
            layer.digest = blob_at(store, contents, normal_path(layer_path.get<std::string>()));
            layer.media_type = layer_type(stored_compression(store, layer.digest));
            layer.size = static_cast<std::int64_t>(store.blobs().size(layer.digest));
            layers.push_back(layer);
        }
        std::vector<std::string> names;
        if (item.contains("RepoTags") && item["RepoTags"].is_array())
            for (const auto& tag : item["RepoTags"])
                if (tag.is_string()) names.push_back(tag.get<std::string>());
        Image image =
            store.add_from_parts(store.blobs().read(config, max_document_size), layers, names);
        loaded.push_back({image.id, names});
    }
    return loaded;
}

// A name from an index entry's annotations: containerd's full name, or the
// OCI ref name when it is a whole reference (skopeo writes just a tag).
std::optional<std::string> annotated_name(const oci::Descriptor& descriptor) {
    if (auto found = descriptor.annotations.find(containerd_name_annotation);
        found != descriptor.annotations.end())
        return found->second;
    if (auto found = descriptor.annotations.find(oci_ref_name_annotation);
        found != descriptor.annotations.end()) {
        if (found->second.find_first_of("/:") != std::string::npos) return found->second;
    }
    return std::nullopt;
}

std::vector<LoadedImage> load_index(ImageStore& store, const oci::Index& index, int depth = 0) {
    if (depth > 4) fail("image indexes nested too deeply");
    std::vector<LoadedImage> loaded;
    // Of a multi-platform index, only the manifest for this machine, chosen
    // as `berth pull` chooses it.
    std::optional<oci::Descriptor> chosen = oci::choose_platform(index, oci::host_platform());
    for (const auto& descriptor : index.manifests) {
        if (oci::is_index_type(descriptor.media_type)) {
            auto nested = load_index(
                store, oci::parse_index(store.blobs().read(descriptor.digest, max_document_size)),
                depth + 1);
            loaded.insert(loaded.end(), nested.begin(), nested.end());
            continue;
        }
        if (!oci::is_manifest_type(descriptor.media_type)) continue;
        if (descriptor.platform && (!chosen || descriptor.digest != chosen->digest)) continue;
        std::vector<std::string> names;
        if (auto name = annotated_name(descriptor)) names.push_back(*name);
        Image image = store.add(descriptor.digest, names);
        loaded.push_back({image.id, names});
    }
    return loaded;
}

} // namespace

std::vector<LoadedImage> load_archive(ImageStore& store, ByteSource& archive) {
    PeekableSource peekable(archive);
    oci::Compression compression = detect_compression(peekable.peek(compression_magic_size));
    auto stream = decompressing(peekable, compression);
    ArchiveContents contents =
        with_context("reading the archive", [&] { return read_archive(store, *stream); });

    std::vector<LoadedImage> loaded;
    auto index = contents.documents.find("index.json");
    auto manifest = contents.documents.find("manifest.json");
    if (index != contents.documents.end()) {
        loaded = with_context("index.json",
                              [&] { return load_index(store, oci::parse_index(index->second)); });
        // Docker 25+ writes both: manifest.json carries the tags.
        if (manifest != contents.documents.end()) {
            auto docker = nlohmann::json::parse(manifest->second, nullptr, false);
            if (docker.is_array())
                for (const auto& item : docker) {
                    if (!item.is_object() || !item.contains("Config") ||
                        !item["Config"].is_string() || !item.contains("RepoTags") ||
                        !item["RepoTags"].is_array())
                        continue;
                    oci::Digest config =
                        blob_at(store, contents, normal_path(item["Config"].get<std::string>()));
                    for (auto& image : loaded) {
                        if (image.id != config) continue;
                        for (const auto& tag : item["RepoTags"]) {
                            if (!tag.is_string()) continue;
                            std::string name =
                                oci::parse_reference(tag.get<std::string>()).tagged_name();
                            store.tag(image.id.str(), name);
                            bool known = false;
                            for (const auto& existing : image.names)
                                known =
                                    known || oci::parse_reference(existing).tagged_name() == name;
                            if (!known) image.names.push_back(name);
                        }
                    }
                }
        }
    } else if (manifest != contents.documents.end()) {
        loaded = with_context("manifest.json", [&] {
            return load_docker_manifest(store, contents, manifest->second);
        });
    } else {
        fail("not an image archive: it has neither manifest.json nor index.json");
    }
    if (loaded.empty()) fail("the archive holds no image for " + oci::host_platform().architecture);
    return loaded;
}

std::vector<LoadedImage> load_oci_directory(ImageStore& store, const std::string& directory) {
    return with_context("loading the OCI layout " + directory, [&] {
        if (!path_exists(directory + "/oci-layout"))
            fail("not an OCI image layout (no oci-layout file)");
        oci::Index index = oci::parse_index(read_file(directory + "/index.json"));
        // Every blob of the layout is copied (and verified) before anything is
        // indexed; a layout holds only what its images need.
        std::string blob_dir = directory + "/blobs/sha256";
        for (const auto& digest : [&] {
                 ContentStore layout_blobs(directory);
                 return layout_blobs.list();
             }()) {
            // Content-addressed: a blob the store holds is this one.
            if (store.blobs().has(digest)) continue;
            UniqueFd fd = open_fd(blob_dir + "/" + digest.hex(), O_RDONLY);
            FdSource source(fd.get(), blob_dir + "/" + digest.hex());
            store.blobs().ingest(source, digest);
        }
        auto loaded = load_index(store, index);
        if (loaded.empty())
            fail("the layout holds no image for " + oci::host_platform().architecture);
        return loaded;
    });
}

} // namespace berth::image
