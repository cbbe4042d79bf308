// What the registry tests start: Debian's docker-registry on 127.0.0.1 (plain
// HTTP, or TLS with a test CA and htpasswd basic auth, or token auth), a TCP
// proxy that can cut or corrupt a blob stream and counts requests, and a
// token server for the bearer flow. Each is stopped by PID or joined when
// its object goes away.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "berth_test/loopback_server.hpp"

namespace registry_test {

// Waits until something accepts connections on 127.0.0.1:port.
bool wait_for_port(int port, int timeout_ms = 15000);

// A test CA and a server certificate for 127.0.0.1 / localhost, made with
// openssl: <dir>/ca.crt, <dir>/server.crt, <dir>/server.key.
void make_certificates(const std::filesystem::path& dir);

struct RegistryConfig {
    bool tls = false;
    std::string htpasswd_user, htpasswd_password; // basic auth when set
    // Token auth: the realm of the token server and the bundle that signs tokens.
    std::string token_realm, token_root_bundle;
};

class RegistryProcess {
  public:
    RegistryProcess(const std::filesystem::path& dir, const RegistryConfig& config);
    ~RegistryProcess();
    int port() const { return port_; }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string log() const;

  private:
    std::filesystem::path dir_;
    int port_ = 0;
    pid_t pid_ = -1;
};

// Forwards 127.0.0.1:port() to the registry. Counts blob GETs per digest
// (and how many asked for a Range); can cut the first response for one blob
// after `cut_after` body bytes, or flip a byte of every response for a blob.
class TcpProxy {
  public:
    explicit TcpProxy(int target_port);
    ~TcpProxy();
    int port() const { return server_->port(); }
    std::string host() const { return "127.0.0.1:" + std::to_string(port()); }

    void cut_blob_once(const std::string& digest, std::size_t after_bytes);
    // Every response for the blob, resumed or not, cut after `after_bytes`.
    void cut_blob_always(const std::string& digest, std::size_t after_bytes);
    void corrupt_blob(const std::string& digest);
    // Answers blob GETs with a 307 to the registry itself (as registries
    // backed by object storage do), without the Authorization header's host.
    void redirect_blobs() { redirect_ = true; }
    int blob_gets(const std::string& digest);
    int ranged_blob_gets(const std::string& digest);

  private:
    // Relays between `client` and a new connection to the registry until
    // either side closes or the proxy stops.
    void serve(int client);

    int target_port_;
    std::mutex lock_;
    std::vector<std::thread> connections_;
    std::map<std::string, int> gets_, ranged_gets_;
    std::string cut_digest_, corrupt_digest_;
    std::size_t cut_after_ = 0;
    bool cut_always_ = false;
    std::atomic<bool> redirect_{false};
    // Last, so that it stops before what its handler uses goes away.
    std::unique_ptr<berth_test::LoopbackServer> server_;
};

// The bearer flow's other half: answers GET /token?service=&scope= with a
// JWT signed by its own key (RS256, x5c header), for `user`:`password`
// given as basic auth, or anonymously for pull scopes when `anonymous_pull`.
class TokenServer {
  public:
    TokenServer(const std::filesystem::path& dir, std::string user, std::string password);
    ~TokenServer();
    std::string realm() const {
        return "http://127.0.0.1:" + std::to_string(server_->port()) + "/token";
    }
    std::string root_bundle() const { return bundle_; }
    int requests() const { return requests_; }
    std::vector<std::string> scopes();

  private:
    // Reads one request from `client`, answers it and closes the connection.
    void answer(int client);
    std::string handle(const std::string& request, int& status);
    std::string sign(const std::string& payload);

    std::string user_, password_, bundle_, key_path_, cert_der_base64_;
    std::atomic<int> requests_{0};
    std::mutex lock_;
    std::vector<std::string> scopes_;
    // Last, so that it stops before what its handler uses goes away.
    std::unique_ptr<berth_test::LoopbackServer> server_;
};

} // namespace registry_test
