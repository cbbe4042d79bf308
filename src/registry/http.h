// A thin layer over libcurl: one request in, status + headers + body out,
// with transport failures turned into berth Errors that say what failed on
// which host. Connections, DNS answers and TLS sessions are shared between
// the threads of one session, so parallel blob transfers reuse them.
#pragma once

#include "berth/base/error.h"

#include <curl/curl.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::registry {

// A request that never reached an HTTP answer. `tls_handshake` marks a TLS
// failure other than an untrusted certificate (a plain HTTP server behind
// an https:// URL looks like that), for the fallback to plain HTTP.
class TransportError : public Error {
  public:
    TransportError(const std::string& message, CURLcode code, bool tls_handshake)
        : Error(message), code_(code), tls_handshake_(tls_handshake) {}
    CURLcode code() const { return code_; }
    bool tls_handshake() const { return tls_handshake_; }
    // Worth retrying from where it stopped (a connection lost mid-body).
    bool interrupted() const;

  private:
    CURLcode code_;
    bool tls_handshake_;
};

struct TlsSettings {
    bool verify = true;
    std::string ca_bundle_pem; // trusted CAs, empty for the system's
};

struct HttpResponse {
    long status = 0;
    std::vector<std::pair<std::string, std::string>> headers; // names lowercase
    std::string body;
    std::string header(std::string_view name) const; // last value, or ""
};

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers;
    // A body from memory, or a range of a file; none when both are unset.
    std::optional<std::string> body;
    int body_fd = -1;
    std::uint64_t body_offset = 0;
    std::uint64_t body_size = 0;
    bool follow_redirects = true;
    // 2xx bodies go here, chunk by chunk, when set; others are kept in
    // HttpResponse::body (up to max_body) for the error message.
    std::function<void(const HttpResponse& head, std::string_view chunk)> sink;
    std::size_t max_body = 16 << 20;
    // Bytes of the body sent so far, now and then during an upload.
    std::function<void(std::uint64_t)> upload_progress;
};

// One easy handle prepared for a request and what it collects; the blob
// download drives it through curl's multi interface.
class Transfer {
  public:
    Transfer(CURLSH* share, const TlsSettings& tls, const HttpRequest& request);
    ~Transfer();
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

    CURL* handle() const { return easy_; }
    // Runs the transfer to its end (blocking).
    HttpResponse perform();
    // The response once curl reports `result` for this transfer: throws
    // TransportError unless an HTTP answer came whole.
    HttpResponse finish(CURLcode result);
    // Bytes handed to the sink so far.
    std::uint64_t delivered() const { return delivered_; }

  private:
    static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self);
    static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self);
    static std::size_t on_upload(char* data, std::size_t size, std::size_t count, void* self);

    CURL* easy_;
    curl_slist* header_list_ = nullptr;
    HttpRequest request_;
    HttpResponse response_;
    std::uint64_t uploaded_ = 0;
    std::uint64_t delivered_ = 0;
    bool body_too_big_ = false;
    std::exception_ptr sink_failure_; // why the sink stopped the transfer
    char error_text_[CURL_ERROR_SIZE] = {};
};

// Shared state of many transfers (connections, DNS, TLS sessions).
class HttpSession {
  public:
    explicit HttpSession(TlsSettings tls);
    ~HttpSession();
    HttpSession(const HttpSession&) = delete;
    HttpSession& operator=(const HttpSession&) = delete;

    HttpResponse perform(const HttpRequest& request);
    std::unique_ptr<Transfer> start(const HttpRequest& request);
    const TlsSettings& tls() const { return tls_; }

  private:
    static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self);
    static void unlock(CURL*, curl_lock_data data, void* self);

    TlsSettings tls_;
    CURLSH* share_;
    std::mutex locks_[CURL_LOCK_DATA_LAST];
};

// "host:port" of an URL, for messages.
std::string host_of_url(std::string_view url);

} // namespace berth::registry
