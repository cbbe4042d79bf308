// One plain GET of an http(s) URL into a file, for what is not a registry:
// `ADD https://...` in a build. Redirects are followed; the system's CA
// certificates are trusted.
#pragma once

#include <string>

namespace berth::registry {

struct Download {
    std::string last_modified; // the Last-Modified header, "" if none
};

// Writes the body into `fd`; Error naming the URL on a transport failure
// or an answer other than 2xx.
Download download_url(const std::string& url, int fd);

} // namespace berth::registry
