#include "http.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <unistd.h>

namespace berth::registry {

namespace {

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensure_curl_initialized() {
    static CurlGlobal once;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    return std::string(text);
}

} // namespace

bool TransportError::interrupted() const {
    switch (code_) {
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

std::string host_of_url(std::string_view url) {
    if (auto scheme = url.find("://"); scheme != std::string_view::npos)
        url.remove_prefix(scheme + 3);
    return std::string(url.substr(0, url.find_first_of("/?")));
}

std::string HttpResponse::header(std::string_view name) const {
    std::string wanted = lowercase(name);
    for (auto it = headers.rbegin(); it != headers.rend(); ++it)
        if (it->first == wanted) return it->second;
    return {};
}

Transfer::Transfer(CURLSH* share, const TlsSettings& tls, const HttpRequest& request)
    : request_(request) {
    ensure_curl_initialized();
    easy_ = curl_easy_init();
    if (!easy_) fail("cannot start an HTTP transfer (curl_easy_init failed)");
    curl_easy_setopt(easy_, CURLOPT_SHARE, share);
    curl_easy_setopt(easy_, CURLOPT_URL, request_.url.c_str());
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_text_);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_USERAGENT, "berth/0.1");
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT, 30L);
    // A stalled connection (no byte for 60 s) is a dropped one.
    curl_easy_setopt(easy_, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy_, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(easy_, CURLOPT_BUFFERSIZE, 256L * 1024);
    if (request_.follow_redirects) {
        curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(easy_, CURLOPT_MAXREDIRS, 10L);
    }
    if (!tls.verify) {
        curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!tls.ca_bundle_pem.empty()) {
        curl_blob blob{const_cast<char*>(tls.ca_bundle_pem.data()), tls.ca_bundle_pem.size(),
                       CURL_BLOB_NOCOPY};
        curl_easy_setopt(easy_, CURLOPT_CAINFO_BLOB, &blob);
    }
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);

    bool has_body = request_.body || request_.body_fd >= 0;
    if (request_.method == "HEAD") {
        curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
    } else if (request_.method != "GET" || has_body) {
        // Every method with a body goes through curl's upload path, which
        // sends a Content-Length (0 for an empty POST, as registries want).
        curl_easy_setopt(easy_, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, request_.method.c_str());
        curl_easy_setopt(easy_, CURLOPT_READFUNCTION, &Transfer::on_upload);
        curl_easy_setopt(easy_, CURLOPT_READDATA, this);
        std::uint64_t size = request_.body ? request_.body->size() : request_.body_size;
        curl_easy_setopt(easy_, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
        header_list_ = curl_slist_append(header_list_, "Expect:");
    }
    for (const auto& header : request_.headers)
        header_list_ = curl_slist_append(header_list_, header.c_str());
    if (header_list_) curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, header_list_);
}

Transfer::~Transfer() {
    curl_easy_cleanup(easy_);
    curl_slist_free_all(header_list_);
}

std::size_t Transfer::on_header(char* data, std::size_t size, std::size_t count,
                                void* self_pointer) {
    auto* self = static_cast<Transfer*>(self_pointer);
    std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        // A new response (after a redirect or a 100): start over.
        self->response_.headers.clear();
        auto space = line.find(' ');
        self->response_.status =
            space == std::string_view::npos ? 0 : std::atol(line.data() + space + 1);
        return size * count;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos && self->response_.headers.size() < 200)
        self->response_.headers.emplace_back(lowercase(trimmed(line.substr(0, colon))),
                                             trimmed(line.substr(colon + 1)));
    return size * count;
}

std::size_t Transfer::on_body(char* data, std::size_t size, std::size_t count, void* self_pointer) {
    auto* self = static_cast<Transfer*>(self_pointer);
    std::size_t n = size * count;
    long status = self->response_.status;
    if (self->request_.sink && status >= 200 && status < 300) {
        try {
            self->request_.sink(self->response_, std::string_view(data, n));
        } catch (...) {
            self->sink_failure_ = std::current_exception();
            return 0;
        }
        self->delivered_ += n;
        return n;
    }
    if (self->response_.body.size() + n > self->request_.max_body) {
        self->body_too_big_ = true;
        return 0;
    }
    self->response_.body.append(data, n);
    return n;
}

std::size_t Transfer::on_upload(char* data, std::size_t size, std::size_t count,
                                void* self_pointer) {
    auto* self = static_cast<Transfer*>(self_pointer);
    std::size_t room = size * count;
    const HttpRequest& request = self->request_;
    if (request.body) {
        std::size_t n = std::min<std::size_t>(room, request.body->size() - self->uploaded_);
        std::copy_n(request.body->data() + self->uploaded_, n, data);
        self->uploaded_ += n;
        return n;
    }
    std::uint64_t left = request.body_size - self->uploaded_;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(room, left));
    if (want == 0) return 0;
    ssize_t got;
    do {
        got = ::pread(request.body_fd, data, want,
                      static_cast<off_t>(request.body_offset + self->uploaded_));
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return CURL_READFUNC_ABORT;
    self->uploaded_ += static_cast<std::uint64_t>(got);
    if (request.upload_progress) request.upload_progress(self->uploaded_);
    return static_cast<std::size_t>(got);
}

HttpResponse Transfer::perform() {
    return finish(curl_easy_perform(easy_));
}

HttpResponse Transfer::finish(CURLcode result) {
    if (result == CURLE_OK) return response_;
    if (sink_failure_) std::rethrow_exception(sink_failure_);
    std::string host = host_of_url(request_.url);
    std::string detail = error_text_[0] ? error_text_ : curl_easy_strerror(result);
    if (body_too_big_)
        throw TransportError(request_.method + " " + request_.url + ": the answer is larger than " +
                                 std::to_string(request_.max_body) + " bytes",
                             result, false);
    switch (result) {
    case CURLE_COULDNT_RESOLVE_HOST:
        throw TransportError("cannot resolve host " + host + ": unknown host", result, false);
    case CURLE_COULDNT_CONNECT:
        throw TransportError("cannot connect to " + host + ": " + detail, result, false);
    case CURLE_PEER_FAILED_VERIFICATION:
        throw TransportError("TLS certificate of " + host + " is not trusted (" + detail +
                                 "): put its CA in --cert-dir, or use --tls-verify=false",
                             result, false);
    case CURLE_SSL_CONNECT_ERROR:
        throw TransportError("TLS handshake with " + host + " failed: " + detail, result, true);
    case CURLE_WRITE_ERROR:
        throw TransportError("transfer from " + host + " stopped by the receiver", result, false);
    default:
        if (response_.status != 0)
            throw TransportError("connection to " + host + " dropped: " + detail, result, false);
        throw TransportError(request_.method + " " + host + ": " + detail, result, false);
    }
}

HttpSession::HttpSession(TlsSettings tls) : tls_(std::move(tls)) {
    ensure_curl_initialized();
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &HttpSession::lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &HttpSession::unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

HttpSession::~HttpSession() {
    curl_share_cleanup(share_);
}

void HttpSession::lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<HttpSession*>(self)->locks_[data].lock();
}

void HttpSession::unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<HttpSession*>(self)->locks_[data].unlock();
}

HttpResponse HttpSession::perform(const HttpRequest& request) {
    return Transfer(share_, tls_, request).perform();
}

std::unique_ptr<Transfer> HttpSession::start(const HttpRequest& request) {
    return std::make_unique<Transfer>(share_, tls_, request);
}

} // namespace berth::registry
