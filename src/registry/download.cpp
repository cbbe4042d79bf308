// A GET of a URL into a file, over the same libcurl session type as the
// registry client (loaded on first use).
#include "berth/registry/download.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "http.h"

namespace berth::registry {

Download download_url(const std::string& url, int fd) {
    HttpSession session(TlsSettings{});
    HttpRequest request;
    request.url = url;
    request.sink = [fd, &url](const HttpResponse&, std::string_view chunk) {
        write_all(fd, chunk, "the download of " + url);
    };
    HttpResponse response = session.perform(request);
    if (response.status < 200 || response.status >= 300)
        fail("GET " + url + ": HTTP status " + std::to_string(response.status));
    return Download{response.header("last-modified")};
}

} // namespace berth::registry
