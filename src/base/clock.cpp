#include "berth/base/clock.h"

#include <cstdio>
#include <ctime>

namespace berth {

std::string rfc3339_now() {
    timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    tm utc;
    ::gmtime_r(&now.tv_sec, &utc);
    char text[64];
    size_t n = ::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%09ldZ", now.tv_nsec);
    return text;
}

} // namespace berth
