// libnftables, loaded the first time berth changes firewall rules. Linked the
// usual way, it brings six shared libraries (libnftnl, libmnl, libxtables,
// libjansson, libgmp) that every berth process would load at start, ~0.4 ms
// of each `berth run`, though only networks and published ports need them.
// These are the functions firewall.cpp calls, each forwarding to the real one.
#include <nftables/libnftables.h>

#include "berth/base/library_on_demand.h"

namespace {

berth::LibraryOnDemand& libnftables() {
    static berth::LibraryOnDemand library("libnftables.so.1", "networks and published ports",
                                          "libnftables1");
    return library;
}

template <class Function> Function real(const char* name) {
    return libnftables().function<Function>(name);
}

} // namespace

extern "C" {

struct nft_ctx* nft_ctx_new(uint32_t flags) {
    static auto forward = real<struct nft_ctx* (*)(uint32_t)>("nft_ctx_new");
    return forward(flags);
}

void nft_ctx_free(struct nft_ctx* context) {
    static auto forward = real<void (*)(struct nft_ctx*)>("nft_ctx_free");
    forward(context);
}

int nft_ctx_buffer_output(struct nft_ctx* context) {
    static auto forward = real<int (*)(struct nft_ctx*)>("nft_ctx_buffer_output");
    return forward(context);
}

int nft_ctx_buffer_error(struct nft_ctx* context) {
    static auto forward = real<int (*)(struct nft_ctx*)>("nft_ctx_buffer_error");
    return forward(context);
}

const char* nft_ctx_get_error_buffer(struct nft_ctx* context) {
    static auto forward = real<const char* (*)(struct nft_ctx*)>("nft_ctx_get_error_buffer");
    return forward(context);
}

int nft_run_cmd_from_buffer(struct nft_ctx* context, const char* buffer) {
    static auto forward = real<int (*)(struct nft_ctx*, const char*)>("nft_run_cmd_from_buffer");
    return forward(context, buffer);
}

} // extern "C"
