#include "berth/base/library_on_demand.h"

#include "berth/base/error.h"

#include <dlfcn.h>
#include <mutex>

namespace berth {

LibraryOnDemand::LibraryOnDemand(const char* soname, const char* needed_for, const char* package)
    : soname_(soname), needed_for_(needed_for), package_(package) {}

void* LibraryOnDemand::symbol(const char* name) {
    // Pulls download layers from several threads at once.
    static std::mutex loading;
    {
        std::lock_guard lock(loading);
        if (!handle_) {
            handle_ = ::dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
            if (!handle_)
                fail(std::string(needed_for_) + " need " + soname_ + " (Debian's " + package_ +
                     "): " + ::dlerror());
        }
    }
    void* found = ::dlsym(handle_, name);
    if (!found) fail(std::string(soname_) + " has no " + name);
    return found;
}

} // namespace berth
