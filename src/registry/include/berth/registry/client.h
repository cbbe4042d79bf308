// One registry as the distribution protocol sees it: the endpoint (https, or
// plain http where allowed), authentication (anonymous, basic, bearer tokens
// cached per scope) and the protocol's requests. Safe to use from several
// threads at once: parallel blob transfers share one client.
#pragma once

#include "berth/image/content_store.h"
#include "berth/oci/image_spec.h"
#include "berth/registry/credentials.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::registry {

struct ClientOptions {
    // false: any registry may answer over plain HTTP or with a certificate
    // that is not verified (podman's --tls-verify=false).
    bool tls_verify = true;
    // Registries ("host:port") that may use plain HTTP; localhost and
    // 127.0.0.1 always may, as with podman.
    std::vector<std::string> insecure_registries;
    // A directory of extra CA certificates (*.crt) to trust; else
    // /etc/berth/certs.d/<host>, /etc/containers/certs.d/<host> and
    // /etc/docker/certs.d/<host> are looked at.
    std::string cert_dir;
    std::string auth_file;                  // else credential_files()
    std::optional<Credentials> credentials; // given on the command line
};

using Progress = std::function<void(std::uint64_t bytes_done)>;

class HttpSession;
struct HttpRequest;
struct HttpResponse;

class Client {
  public:
    // `registry` as in a reference: "docker.io", "localhost:5000".
    Client(std::string registry, ClientOptions options);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    const std::string& registry() const { return registry_; }

    // `berth login`: checks the credentials against the registry (GET /v2/
    // and, for a token registry, a token). Error with the registry's message.
    void check_login();

    struct FetchedManifest {
        std::string media_type;
        std::string content;
        oci::Digest digest; // of `content`, checked against the reference's digest
    };
    // By tag or "sha256:..." digest. Error "manifest unknown" when absent.
    FetchedManifest fetch_manifest(const std::string& repository, const std::string& reference);

    // Streams the blob's bytes to `sink` in order, each once, resuming with
    // Range after a dropped connection, up to 3 times. The caller checks the
    // digest (a BlobWriter's commit does).
    void fetch_blob(const std::string& repository, const oci::Descriptor& blob,
                    const std::function<void(std::string_view)>& sink,
                    const Progress& progress = {});

    bool has_blob(const std::string& repository, const oci::Digest& digest);
    // Cross-repository mount; false when the registry would rather receive it.
    bool mount_blob(const std::string& repository, const oci::Digest& digest,
                    const std::string& from_repository);
    // Uploads `size` bytes of `fd` as the blob `digest`: in one PUT, or in
    // PATCH chunks of `chunk_size` when it is bigger.
    void upload_blob(const std::string& repository, const oci::Digest& digest, int fd,
                     std::uint64_t size, std::uint64_t chunk_size, const Progress& progress = {});
    // PUT by tag (or digest); returns the digest the registry reports.
    oci::Digest put_manifest(const std::string& repository, const std::string& reference,
                             const std::string& media_type, const std::string& content);

  private:
    HttpResponse send(HttpRequest request, const std::string& scope);
    std::string base_url();
    std::string authorize(const std::string& challenge_header, const std::string& scope);
    std::string resolve_location(const std::string& location);

    struct State;
    std::string registry_;
    std::string host_; // where requests go ("registry-1.docker.io" for docker.io)
    ClientOptions options_;
    std::unique_ptr<State> state_;
};

// Plain HTTP is allowed for `host` with these options.
bool plain_http_allowed(const std::string& host, const ClientOptions& options);

} // namespace berth::registry
