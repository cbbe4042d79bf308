// libcurl, loaded the first time a registry command calls it. Linked the
// usual way, libcurl brings some 28 shared libraries (TLS, HTTP/2, SSH,
// LDAP, Kerberos...) whose loading every berth process would pay at start,
// about 5 ms, `berth run` included, though only pull, push and login use
// them. These are the libcurl functions berth calls, each forwarding to the
// real one found with dlopen; a machine without libcurl fails only those
// commands, with an error that names the package.
#define CURL_DISABLE_TYPECHECK // the type-checking macros would rename what we define
#include <curl/curl.h>

#include "berth/base/library_on_demand.h"

#include <cstdarg>

namespace {

berth::LibraryOnDemand& libcurl() {
    static berth::LibraryOnDemand library("libcurl.so.4", "registry commands", "libcurl4");
    return library;
}

template <class Function> Function real(const char* name) {
    return libcurl().function<Function>(name);
}

// The variadic setters take one argument: a long, a pointer or a curl_off_t,
// which the x86-64 and arm64 calling conventions pass alike, in one 64-bit
// register or stack slot, so it is read and passed on as a pointer.
void* the_argument(va_list& arguments) {
    return va_arg(arguments, void*);
}

} // namespace

extern "C" {

CURLcode curl_global_init(long flags) {
    static auto forward = real<CURLcode (*)(long)>("curl_global_init");
    return forward(flags);
}

CURL* curl_easy_init(void) {
    static auto forward = real<CURL* (*)()>("curl_easy_init");
    return forward();
}

CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
    static auto forward = real<CURLcode (*)(CURL*, CURLoption, ...)>("curl_easy_setopt");
    va_list arguments;
    va_start(arguments, option);
    void* value = the_argument(arguments);
    va_end(arguments);
    return forward(curl, option, value);
}

CURLcode curl_easy_perform(CURL* curl) {
    static auto forward = real<CURLcode (*)(CURL*)>("curl_easy_perform");
    return forward(curl);
}

void curl_easy_cleanup(CURL* curl) {
    static auto forward = real<void (*)(CURL*)>("curl_easy_cleanup");
    forward(curl);
}

const char* curl_easy_strerror(CURLcode code) {
    static auto forward = real<const char* (*)(CURLcode)>("curl_easy_strerror");
    return forward(code);
}

CURLSH* curl_share_init(void) {
    static auto forward = real<CURLSH* (*)()>("curl_share_init");
    return forward();
}

CURLSHcode curl_share_setopt(CURLSH* share, CURLSHoption option, ...) {
    static auto forward = real<CURLSHcode (*)(CURLSH*, CURLSHoption, ...)>("curl_share_setopt");
    va_list arguments;
    va_start(arguments, option);
    void* value = the_argument(arguments);
    va_end(arguments);
    return forward(share, option, value);
}

CURLSHcode curl_share_cleanup(CURLSH* share) {
    static auto forward = real<CURLSHcode (*)(CURLSH*)>("curl_share_cleanup");
    return forward(share);
}

struct curl_slist* curl_slist_append(struct curl_slist* list, const char* text) {
    static auto forward =
        real<struct curl_slist* (*)(struct curl_slist*, const char*)>("curl_slist_append");
    return forward(list, text);
}

void curl_slist_free_all(struct curl_slist* list) {
    static auto forward = real<void (*)(struct curl_slist*)>("curl_slist_free_all");
    forward(list);
}

} // extern "C"
