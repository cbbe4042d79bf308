#include "berth/registry/client.h"

#include "http.h"

#include "berth/base/files.h"
#include "berth/base/text.h"
#include "berth/registry/challenge.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <dirent.h>
#include <map>
#include <mutex>

namespace berth::registry {

namespace {

using nlohmann::json;

constexpr const char* manifest_accept =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
constexpr int blob_retries = 3;

std::string bare_host(const std::string& host) {
    if (!host.empty() && host.front() == '[') return host.substr(1, host.find(']') - 1);
    return host.substr(0, host.rfind(':') == std::string::npos ? host.size() : host.rfind(':'));
}

// The registry's own words from an error answer: `{"errors":[{"code":
// "DENIED","message":"..."}]}` as "denied: ...", else the status.
std::string registry_message(const HttpResponse& response) {
    json document = json::parse(response.body, nullptr, false);
    if (!document.is_discarded() && document.is_object()) {
        const json* errors = nullptr;
        if (document.contains("errors") && document["errors"].is_array() &&
            !document["errors"].empty())
            errors = &document["errors"];
        if (errors) {
            const json& first = (*errors)[0];
            std::string code = first.value("code", "");
            std::string message = first.value("message", "");
            std::transform(code.begin(), code.end(), code.begin(), ::tolower);
            if (!code.empty() && !message.empty()) return code + ": " + message;
            if (!message.empty()) return message;
            if (!code.empty()) return code;
        }
        // Token servers say it their own way.
        if (document.contains("details") && document["details"].is_string())
            return document["details"].get<std::string>();
        if (document.contains("error") && document["error"].is_string())
            return document["error"].get<std::string>();
    }
    std::string text = "HTTP " + std::to_string(response.status);
    std::string body = response.body.substr(0, 200);
    body.erase(std::remove(body.begin(), body.end(), '\n'), body.end());
    if (!body.empty() && body.find('<') == std::string::npos) text += ": " + body;
    return text;
}

std::string url_escape(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    return out;
}

std::string append_query(const std::string& url, const std::string& query) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

// System CAs plus the registry's own ones, as one PEM bundle; empty when
// the registry has none, so that curl uses its defaults.
std::string ca_bundle_for(const std::string& host, const std::string& cert_dir) {
    std::vector<std::string> directories;
    if (!cert_dir.empty()) {
        directories.push_back(cert_dir);
    } else {
        for (const char* base :
             {"/etc/berth/certs.d/", "/etc/containers/certs.d/", "/etc/docker/certs.d/"})
            directories.push_back(base + host);
    }
    std::string extra;
    for (const auto& directory : directories) {
        DIR* dir = ::opendir(directory.c_str());
        if (!dir) continue;
        std::vector<std::string> names;
        while (dirent* entry = ::readdir(dir)) {
            std::string name = entry->d_name;
            if (name.size() > 4 && name.substr(name.size() - 4) == ".crt") names.push_back(name);
        }
        ::closedir(dir);
        std::sort(names.begin(), names.end());
        for (const auto& name : names)
            extra += read_file(directory + "/" + name) + "\n";
    }
    if (extra.empty()) return {};
    for (const char* system :
         {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"})
        if (path_exists(system)) return read_file(system) + "\n" + extra;
    return extra;
}

} // namespace

bool plain_http_allowed(const std::string& host, const ClientOptions& options) {
    if (!options.tls_verify) return true;
    std::string name = bare_host(host);
    if (name == "localhost" || name == "::1" || name.rfind("127.", 0) == 0) return true;
    return std::find(options.insecure_registries.begin(), options.insecure_registries.end(),
                     host) != options.insecure_registries.end() ||
           std::find(options.insecure_registries.begin(), options.insecure_registries.end(),
                     name) != options.insecure_registries.end();
}

struct Client::State {
    std::unique_ptr<HttpSession> session;
    std::mutex lock;
    std::string base_url; // "https://host:port", found by the first request
    std::map<std::string, std::string> authorization; // scope -> header value
    bool credentials_loaded = false;
    std::optional<Credentials> credentials;
};

Client::Client(std::string registry, ClientOptions options)
    : registry_(std::move(registry)), options_(std::move(options)),
      state_(std::make_unique<State>()) {
    host_ = registry_ == "docker.io" ? "registry-1.docker.io" : registry_;
    TlsSettings tls;
    tls.verify = options_.tls_verify;
    tls.ca_bundle_pem = ca_bundle_for(registry_, options_.cert_dir);
    state_->session = std::make_unique<HttpSession>(std::move(tls));
    if (options_.credentials) {
        state_->credentials = options_.credentials;
        state_->credentials_loaded = true;
    }
}

Client::~Client() = default;

std::string Client::base_url() {
    std::lock_guard guard(state_->lock);
    if (!state_->base_url.empty()) return state_->base_url;
    // The first request decides the scheme: https, or plain http where it
    // is allowed and the server does not speak TLS.
    HttpRequest ping;
    ping.url = "https://" + host_ + "/v2/";
    try {
        state_->session->perform(ping);
        state_->base_url = "https://" + host_;
    } catch (const TransportError& error) {
        // No TLS there (a plain server, or nothing on port 443 of a host
        // named without a port): plain HTTP where that is allowed.
        bool no_tls = error.tls_handshake() || error.code() == CURLE_COULDNT_CONNECT;
        if (!no_tls || !plain_http_allowed(registry_, options_)) throw;
        ping.url = "http://" + host_ + "/v2/";
        try {
            state_->session->perform(ping);
        } catch (const TransportError&) {
            throw error; // the https failure says more
        }
        state_->base_url = "http://" + host_;
    }
    return state_->base_url;
}

std::string Client::resolve_location(const std::string& location) {
    if (location.empty()) fail(registry_ + " did not say where to upload (no Location header)");
    if (location.find("://") != std::string::npos) return location;
    return base_url() + (location.front() == '/' ? "" : "/") + location;
}

std::string Client::authorize(const std::string& header, const std::string& scope) {
    std::vector<Challenge> challenges = with_context(
        registry_ + " asks for authentication", [&] { return parse_www_authenticate(header); });
    {
        std::lock_guard guard(state_->lock);
        if (!state_->credentials_loaded) {
            state_->credentials = find_credentials(registry_, options_.auth_file);
            state_->credentials_loaded = true;
        }
    }
    const std::optional<Credentials>& credentials = state_->credentials;
    std::string basic =
        credentials ? "Basic " + base64_encode(credentials->username + ":" + credentials->password)
                    : std::string();
    for (const auto& challenge : challenges) {
        if (challenge.scheme == "bearer") {
            auto realm = challenge.parameters.find("realm");
            if (realm == challenge.parameters.end() || realm->second.empty())
                fail(registry_ + " asks for a bearer token but names no realm");
            if (realm->second.rfind("https://", 0) != 0 && realm->second.rfind("http://", 0) != 0)
                fail(registry_ + "'s token realm is not an http(s) URL: " + realm->second);
            HttpRequest token_request;
            std::string url = realm->second;
            if (auto service = challenge.parameters.find("service");
                service != challenge.parameters.end())
                url = append_query(url, "service=" + url_escape(service->second));
            std::string wanted = scope;
            if (auto offered = challenge.parameters.find("scope");
                offered != challenge.parameters.end() && wanted.empty())
                wanted = offered->second;
            for (const auto& one : split(wanted, ' '))
                if (!one.empty()) url = append_query(url, "scope=" + url_escape(one));
            token_request.url = url;
            if (!basic.empty()) token_request.headers.push_back("Authorization: " + basic);
            HttpResponse answer = state_->session->perform(token_request);
            if (answer.status == 401 || answer.status == 403)
                fail(registry_ + " refused the credentials: " + registry_message(answer));
            if (answer.status != 200)
                fail("getting a token from " + host_of_url(url) + ": " + registry_message(answer));
            json document = json::parse(answer.body, nullptr, false);
            std::string token;
            if (!document.is_discarded() && document.is_object()) {
                if (document.contains("token") && document["token"].is_string())
                    token = document["token"].get<std::string>();
                else if (document.contains("access_token") && document["access_token"].is_string())
                    token = document["access_token"].get<std::string>();
            }
            if (token.empty())
                fail("the token server of " + registry_ + " answered without a token");
            return "Bearer " + token;
        }
        if (challenge.scheme == "basic") {
            if (basic.empty()) fail(registry_ + " needs a login: run berth login " + registry_);
            return basic;
        }
    }
    fail(registry_ + " asks for an authentication scheme berth does not support: " + header);
}

HttpResponse Client::send(HttpRequest request, const std::string& scope) {
    std::string base = base_url();
    if (request.url.find("://") == std::string::npos) request.url = base + request.url;
    std::string authorization;
    {
        std::lock_guard guard(state_->lock);
        if (auto known = state_->authorization.find(scope); known != state_->authorization.end())
            authorization = known->second;
    }
    for (int attempt = 0;; ++attempt) {
        HttpRequest attempt_request = request;
        if (!authorization.empty())
            attempt_request.headers.push_back("Authorization: " + authorization);
        HttpResponse response = state_->session->perform(attempt_request);
        if (response.status != 401) return response;
        std::string challenge = response.header("www-authenticate");
        if (challenge.empty() || attempt > 0) {
            std::string message = registry_message(response);
            fail(registry_ + ": " +
                 (message.rfind("unauthorized", 0) == 0 ? message : "unauthorized: " + message));
        }
        authorization = authorize(challenge, scope);
        std::lock_guard guard(state_->lock);
        state_->authorization[scope] = authorization;
    }
}

void Client::check_login() {
    HttpRequest request;
    request.url = "/v2/";
    HttpResponse response = send(request, "");
    if (response.status != 200)
        fail("logging in to " + registry_ + ": " + registry_message(response));
}

Client::FetchedManifest Client::fetch_manifest(const std::string& repository,
                                               const std::string& reference) {
    HttpRequest request;
    request.url = "/v2/" + repository + "/manifests/" + reference;
    request.headers.push_back(manifest_accept);
    request.max_body = 4 << 20;
    HttpResponse response = send(request, "repository:" + repository + ":pull");
    std::string shown =
        registry_ + "/" + repository + (reference.rfind("sha256:", 0) == 0 ? "@" : ":") + reference;
    if (response.status == 404) fail("manifest unknown: " + shown + " does not exist");
    if (response.status == 403)
        fail("access to " + shown + " denied: " + registry_message(response));
    if (response.status != 200)
        fail("fetching the manifest of " + shown + ": " + registry_message(response));
    FetchedManifest manifest;
    manifest.content = std::move(response.body);
    manifest.digest = oci::sha256_of(manifest.content);
    if (reference.rfind("sha256:", 0) == 0 && manifest.digest != oci::Digest::parse(reference))
        fail("the manifest " + registry_ + " sent for " + shown +
             " does not match that digest (got " + manifest.digest.str() + ")");
    manifest.media_type = response.header("content-type");
    if (auto semicolon = manifest.media_type.find(';'); semicolon != std::string::npos)
        manifest.media_type.resize(semicolon);
    // The document's own mediaType wins over a generic Content-Type.
    json document = json::parse(manifest.content, nullptr, false);
    if (document.is_discarded() || !document.is_object())
        fail("the manifest of " + shown + " is not a JSON object");
    if (document.contains("schemaVersion") && document["schemaVersion"] == 1)
        fail(shown +
             " has a Docker schema 1 manifest, which berth does not pull (it is deprecated: "
             "push the image again with a current client)");
    if (document.contains("mediaType") && document["mediaType"].is_string())
        manifest.media_type = document["mediaType"].get<std::string>();
    else if (!oci::is_index_type(manifest.media_type) &&
             !oci::is_manifest_type(manifest.media_type))
        manifest.media_type = document.contains("manifests") ? oci::media_type::oci_index
                                                             : oci::media_type::oci_manifest;
    return manifest;
}

void Client::fetch_blob(const std::string& repository, const oci::Descriptor& blob,
                        const std::function<void(std::string_view)>& sink,
                        const Progress& progress) {
    std::string what = "blob " + blob.digest.short_hex() + " of " + registry_ + "/" + repository;
    int drops = 0;
    std::uint64_t received = 0;
    while (true) {
        std::uint64_t start = received;
        std::uint64_t to_skip = 0;
        bool first_chunk = true;
        HttpRequest request;
        request.url = "/v2/" + repository + "/blobs/" + blob.digest.str();
        if (start > 0) request.headers.push_back("Range: bytes=" + std::to_string(start) + "-");
        request.sink = [&](const HttpResponse& head, std::string_view chunk) {
            if (first_chunk) {
                first_chunk = false;
                // A server that ignores Range sends it all again from the start.
                if (start > 0 && head.status == 200) to_skip = start;
                if (head.status == 206) {
                    std::string range = head.header("content-range");
                    auto offset = range.find_first_of("0123456789");
                    if (offset == std::string::npos || std::stoull(range.substr(offset)) != start)
                        fail("the registry resumed " + what + " at the wrong offset (" + range +
                             ")");
                }
            }
            if (to_skip > 0) {
                std::size_t n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(to_skip, chunk.size()));
                chunk.remove_prefix(n);
                to_skip -= n;
            }
            if (blob.size > 0 && received + chunk.size() > static_cast<std::uint64_t>(blob.size))
                fail(what + " is larger than the " + std::to_string(blob.size) +
                     " bytes announced");
            sink(chunk);
            received += chunk.size();
            if (progress) progress(received);
        };
        HttpResponse response;
        try {
            response = send(request, "repository:" + repository + ":pull");
        } catch (const TransportError& error) {
            if (!error.interrupted()) throw;
            if (++drops > blob_retries)
                fail("downloading " + what + ": the connection dropped at " +
                     std::to_string(received) + " of " + std::to_string(blob.size) +
                     " bytes, and " + std::to_string(blob_retries) +
                     " resumes failed: " + error.what());
            continue; // resume where it stopped
        }
        if (response.status == 200 || response.status == 206) return;
        if (response.status == 416 && start == static_cast<std::uint64_t>(blob.size)) return;
        if (response.status == 404) fail("blob unknown: " + what + " is missing from the registry");
        fail("downloading " + what + ": " + registry_message(response));
    }
}

bool Client::has_blob(const std::string& repository, const oci::Digest& digest) {
    HttpRequest request;
    request.method = "HEAD";
    request.url = "/v2/" + repository + "/blobs/" + digest.str();
    HttpResponse response = send(request, "repository:" + repository + ":pull,push");
    if (response.status == 200) return true;
    if (response.status == 404) return false;
    fail("checking blob " + digest.short_hex() + " on " + registry_ + "/" + repository + ": " +
         registry_message(response));
}

bool Client::mount_blob(const std::string& repository, const oci::Digest& digest,
                        const std::string& from_repository) {
    HttpRequest request;
    request.method = "POST";
    request.url = "/v2/" + repository + "/blobs/uploads/?mount=" + digest.str() +
                  "&from=" + url_escape(from_repository);
    HttpResponse response = send(request, "repository:" + repository +
                                              ":pull,push repository:" + from_repository + ":pull");
    if (response.status == 201) return true;
    if (response.status == 202) {
        // An upload was started instead; cancel it rather than leave it open.
        HttpRequest cancel;
        cancel.method = "DELETE";
        cancel.url = resolve_location(response.header("location"));
        try {
            send(cancel, "repository:" + repository + ":pull,push");
        } catch (const Error&) {
        }
        return false;
    }
    return false;
}

void Client::upload_blob(const std::string& repository, const oci::Digest& digest, int fd,
                         std::uint64_t size, std::uint64_t chunk_size, const Progress& progress) {
    std::string scope = "repository:" + repository + ":pull,push";
    std::string what =
        "uploading blob " + digest.short_hex() + " to " + registry_ + "/" + repository;
    HttpRequest start;
    start.method = "POST";
    start.url = "/v2/" + repository + "/blobs/uploads/";
    HttpResponse started = send(start, scope);
    if (started.status != 202) fail(what + ": " + registry_message(started));
    std::string location = resolve_location(started.header("location"));

    std::uint64_t offset = 0;
    if (chunk_size > 0 && size > chunk_size) {
        while (offset < size) {
            std::uint64_t length = std::min(chunk_size, size - offset);
            HttpRequest patch;
            patch.method = "PATCH";
            patch.url = location;
            patch.body_fd = fd;
            patch.body_offset = offset;
            patch.body_size = length;
            if (progress)
                patch.upload_progress = [&](std::uint64_t sent) { progress(offset + sent); };
            patch.headers = {"Content-Type: application/octet-stream",
                             "Content-Range: " + std::to_string(offset) + "-" +
                                 std::to_string(offset + length - 1)};
            HttpResponse answer = send(patch, scope);
            if (answer.status != 202)
                fail(what + " (chunk at " + std::to_string(offset) +
                     "): " + registry_message(answer));
            location = resolve_location(answer.header("location"));
            offset += length;
            if (progress) progress(offset);
        }
    }
    HttpRequest put;
    put.method = "PUT";
    put.url = append_query(location, "digest=" + url_escape(digest.str()));
    put.headers = {"Content-Type: application/octet-stream"};
    if (offset < size) {
        put.body_fd = fd;
        put.body_offset = offset;
        put.body_size = size - offset;
        if (progress) put.upload_progress = [&](std::uint64_t sent) { progress(offset + sent); };
    } else {
        put.body = std::string();
    }
    HttpResponse done = send(put, scope);
    if (done.status != 201 && done.status != 204) fail(what + ": " + registry_message(done));
    if (progress) progress(size);
}

oci::Digest Client::put_manifest(const std::string& repository, const std::string& reference,
                                 const std::string& media_type, const std::string& content) {
    HttpRequest request;
    request.method = "PUT";
    request.url = "/v2/" + repository + "/manifests/" + reference;
    request.headers = {"Content-Type: " + media_type};
    request.body = content;
    HttpResponse response = send(request, "repository:" + repository + ":pull,push");
    if (response.status != 201 && response.status != 200)
        fail("pushing the manifest to " + registry_ + "/" + repository + ":" + reference + ": " +
             registry_message(response));
    oci::Digest digest = oci::sha256_of(content);
    std::string reported = response.header("docker-content-digest");
    if (!reported.empty() && oci::Digest::is_valid(reported) &&
        oci::Digest::parse(reported) != digest)
        fail(registry_ + " stored the manifest under " + reported + ", not " + digest.str());
    return digest;
}

} // namespace berth::registry
