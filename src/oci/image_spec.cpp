#include "berth/oci/image_spec.h"

#include "json_reader.h"

namespace berth::oci {

namespace {

using nlohmann::json;

json parse_json(std::string_view text, const char* what) {
    json value = json::parse(text.begin(), text.end(), nullptr, false);
    if (value.is_discarded()) fail(std::string(what) + ": not valid JSON");
    return value;
}

std::map<std::string, std::string> annotations_of(const JsonReader& in) {
    return in.has("annotations") ? in.at("annotations").as_string_map()
                                 : std::map<std::string, std::string>{};
}

std::vector<std::string> object_keys(const JsonReader& in, const char* key) {
    std::vector<std::string> keys;
    if (!in.has(key)) return keys;
    JsonReader object = in.at(key);
    object.expect_object();
    for (auto& item : object.value().items())
        keys.push_back(item.key());
    return keys;
}

Descriptor read_descriptor(const JsonReader& in) {
    in.expect_object();
    Descriptor descriptor;
    descriptor.media_type = in.at("mediaType").as_string();
    descriptor.digest = with_context(in.path() + ".digest",
                                     [&] { return Digest::parse(in.at("digest").as_string()); });
    descriptor.size = in.at("size").as_int<std::int64_t>();
    if (descriptor.size < 0) in.at("size").wrong("a size of 0 or more");
    descriptor.annotations = annotations_of(in);
    if (in.has("platform")) {
        JsonReader platform = in.at("platform");
        platform.expect_object();
        descriptor.platform =
            Platform{platform.at("architecture").as_string(), platform.at("os").as_string(),
                     platform.string_or("variant", "")};
    }
    return descriptor;
}

json descriptor_json(const Descriptor& descriptor) {
    json out = {{"mediaType", descriptor.media_type},
                {"digest", descriptor.digest.str()},
                {"size", descriptor.size}};
    if (!descriptor.annotations.empty()) out["annotations"] = descriptor.annotations;
    if (descriptor.platform) {
        json platform = {{"architecture", descriptor.platform->architecture},
                         {"os", descriptor.platform->os}};
        if (!descriptor.platform->variant.empty())
            platform["variant"] = descriptor.platform->variant;
        out["platform"] = platform;
    }
    return out;
}

json keys_object(const std::vector<std::string>& keys) {
    json out = json::object();
    for (const auto& key : keys)
        out[key] = json::object();
    return out;
}

} // namespace

Compression layer_compression(std::string_view type) {
    if (type == media_type::oci_layer || type == "application/vnd.docker.image.rootfs.diff.tar")
        return Compression::none;
    if (type == media_type::oci_layer_gzip || type == media_type::docker_layer_gzip)
        return Compression::gzip;
    if (type == media_type::oci_layer_zstd) return Compression::zstd;
    // Non-distributable layers are still plain tarballs; only their download differs.
    if (type == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
        type == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
        return Compression::gzip;
    fail("unsupported layer media type \"" + std::string(type) + "\"");
}

bool is_manifest_type(std::string_view type) {
    return type == media_type::oci_manifest || type == media_type::docker_manifest;
}

bool is_index_type(std::string_view type) {
    return type == media_type::oci_index || type == media_type::docker_manifest_list;
}

Descriptor parse_descriptor(std::string_view text) {
    json value = parse_json(text, "descriptor");
    return read_descriptor(JsonReader(value, "descriptor"));
}

Manifest parse_manifest(std::string_view text) {
    json value = parse_json(text, "manifest");
    JsonReader in(value, "manifest");
    in.expect_object();
    Manifest manifest;
    manifest.schema_version = in.at("schemaVersion").as_int<int>();
    if (manifest.schema_version != 2) in.at("schemaVersion").wrong("2");
    manifest.media_type = in.string_or("mediaType", media_type::oci_manifest);
    if (!is_manifest_type(manifest.media_type))
        in.at("mediaType").wrong("an image manifest media type");
    manifest.config = read_descriptor(in.at("config"));
    JsonReader layers = in.at("layers");
    for (std::size_t i = 0; i < layers.size(); ++i)
        manifest.layers.push_back(read_descriptor(layers.item(i)));
    manifest.annotations = annotations_of(in);
    return manifest;
}

Index parse_index(std::string_view text) {
    json value = parse_json(text, "index");
    JsonReader in(value, "index");
    in.expect_object();
    Index index;
    index.schema_version = in.at("schemaVersion").as_int<int>();
    if (index.schema_version != 2) in.at("schemaVersion").wrong("2");
    index.media_type = in.string_or("mediaType", media_type::oci_index);
    JsonReader manifests = in.at("manifests");
    for (std::size_t i = 0; i < manifests.size(); ++i)
        index.manifests.push_back(read_descriptor(manifests.item(i)));
    index.annotations = annotations_of(in);
    return index;
}

ImageConfig parse_image_config(std::string_view text) {
    json value = parse_json(text, "image config");
    JsonReader in(value, "image config");
    in.expect_object();
    ImageConfig image;
    image.created = in.string_or("created", "");
    image.author = in.string_or("author", "");
    image.architecture = in.string_or("architecture", "");
    image.os = in.string_or("os", "");
    image.variant = in.string_or("variant", "");
    if (in.has("config")) {
        JsonReader config = in.at("config");
        config.expect_object();
        ContainerConfig& out = image.config;
        out.user = config.string_or("User", "");
        out.exposed_ports = object_keys(config, "ExposedPorts");
        out.env = config.strings_or_empty("Env");
        out.entrypoint = config.strings_or_empty("Entrypoint");
        out.cmd = config.strings_or_empty("Cmd");
        out.volumes = object_keys(config, "Volumes");
        out.working_dir = config.string_or("WorkingDir", "");
        if (config.has("Labels")) out.labels = config.at("Labels").as_string_map();
        out.stop_signal = config.string_or("StopSignal", "");
        out.on_build = config.strings_or_empty("OnBuild");
        out.shell = config.strings_or_empty("Shell");
        if (config.has("Healthcheck") && !config.at("Healthcheck").value().is_null()) {
            JsonReader check = config.at("Healthcheck");
            check.expect_object();
            Healthcheck healthcheck;
            healthcheck.test = check.strings_or_empty("Test");
            healthcheck.interval = check.optional_int<std::int64_t>("Interval").value_or(0);
            healthcheck.timeout = check.optional_int<std::int64_t>("Timeout").value_or(0);
            healthcheck.start_period = check.optional_int<std::int64_t>("StartPeriod").value_or(0);
            healthcheck.start_interval =
                check.optional_int<std::int64_t>("StartInterval").value_or(0);
            healthcheck.retries = check.optional_int<int>("Retries").value_or(0);
            out.healthcheck = healthcheck;
        }
    }
    JsonReader rootfs = in.at("rootfs");
    rootfs.expect_object();
    if (rootfs.at("type").as_string() != "layers") rootfs.at("type").wrong("\"layers\"");
    JsonReader diff_ids = rootfs.at("diff_ids");
    for (std::size_t i = 0; i < diff_ids.size(); ++i) {
        JsonReader item = diff_ids.item(i);
        image.diff_ids.push_back(
            with_context(item.path(), [&] { return Digest::parse(item.as_string()); }));
    }
    if (in.has("history")) {
        JsonReader history = in.at("history");
        for (std::size_t i = 0; i < history.size(); ++i) {
            JsonReader entry = history.item(i);
            entry.expect_object();
            image.history.push_back(
                HistoryEntry{entry.string_or("created", ""), entry.string_or("created_by", ""),
                             entry.string_or("author", ""), entry.string_or("comment", ""),
                             entry.bool_or("empty_layer", false)});
        }
    }
    return image;
}

std::string manifest_to_json(const Manifest& manifest) {
    json layers = json::array();
    for (const auto& layer : manifest.layers)
        layers.push_back(descriptor_json(layer));
    json out = {
        {"schemaVersion", manifest.schema_version},
        {"mediaType", manifest.media_type.empty() ? media_type::oci_manifest : manifest.media_type},
        {"config", descriptor_json(manifest.config)},
        {"layers", layers}};
    if (!manifest.annotations.empty()) out["annotations"] = manifest.annotations;
    return out.dump();
}

std::string index_to_json(const Index& index) {
    json manifests = json::array();
    for (const auto& entry : index.manifests)
        manifests.push_back(descriptor_json(entry));
    json out = {{"schemaVersion", index.schema_version},
                {"mediaType", index.media_type.empty() ? media_type::oci_index : index.media_type},
                {"manifests", manifests}};
    if (!index.annotations.empty()) out["annotations"] = index.annotations;
    return out.dump();
}

std::string image_config_to_json(const ImageConfig& image) {
    json config = json::object();
    const ContainerConfig& in = image.config;
    if (!in.user.empty()) config["User"] = in.user;
    if (!in.exposed_ports.empty()) config["ExposedPorts"] = keys_object(in.exposed_ports);
    if (!in.env.empty()) config["Env"] = in.env;
    if (!in.entrypoint.empty()) config["Entrypoint"] = in.entrypoint;
    if (!in.cmd.empty()) config["Cmd"] = in.cmd;
    if (!in.volumes.empty()) config["Volumes"] = keys_object(in.volumes);
    if (!in.working_dir.empty()) config["WorkingDir"] = in.working_dir;
    if (!in.labels.empty()) config["Labels"] = in.labels;
    if (!in.stop_signal.empty()) config["StopSignal"] = in.stop_signal;
    if (!in.on_build.empty()) config["OnBuild"] = in.on_build;
    if (!in.shell.empty()) config["Shell"] = in.shell;
    if (in.healthcheck) {
        json check = {{"Test", in.healthcheck->test}};
        if (in.healthcheck->interval) check["Interval"] = in.healthcheck->interval;
        if (in.healthcheck->timeout) check["Timeout"] = in.healthcheck->timeout;
        if (in.healthcheck->start_period) check["StartPeriod"] = in.healthcheck->start_period;
        if (in.healthcheck->start_interval) check["StartInterval"] = in.healthcheck->start_interval;
        if (in.healthcheck->retries) check["Retries"] = in.healthcheck->retries;
        config["Healthcheck"] = check;
    }

    json diff_ids = json::array();
    for (const auto& id : image.diff_ids)
        diff_ids.push_back(id.str());
    json out = {{"architecture", image.architecture},
                {"os", image.os},
                {"config", config},
                {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    if (!image.created.empty()) out["created"] = image.created;
    if (!image.author.empty()) out["author"] = image.author;
    if (!image.variant.empty()) out["variant"] = image.variant;
    if (!image.history.empty()) {
        json history = json::array();
        for (const auto& entry : image.history) {
            json item = json::object();
            if (!entry.created.empty()) item["created"] = entry.created;
            if (!entry.created_by.empty()) item["created_by"] = entry.created_by;
            if (!entry.author.empty()) item["author"] = entry.author;
            if (!entry.comment.empty()) item["comment"] = entry.comment;
            if (entry.empty_layer) item["empty_layer"] = true;
            history.push_back(item);
        }
        out["history"] = history;
    }
    return out.dump();
}

Platform host_platform() {
#if defined(__x86_64__)
    return {"amd64", "linux", ""};
#elif defined(__aarch64__)
    return {"arm64", "linux", "v8"};
#elif defined(__arm__)
    return {"arm", "linux", "v7"};
#elif defined(__riscv)
    return {"riscv64", "linux", ""};
#elif defined(__s390x__)
    return {"s390x", "linux", ""};
#elif defined(__powerpc64__)
    return {"ppc64le", "linux", ""};
#else
    return {"unknown", "linux", ""};
#endif
}

} // namespace berth::oci
