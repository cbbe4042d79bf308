// Fuzz target: a layer from a stranger, applied for real. Whatever the
// bytes, apply_layer must end in a snapshot or a berth::Error, and must
// never create, change or follow anything outside the snapshot directory.
// The sandbox has a fixed path so that corpus entries can aim absolute
// symlinks and hard links at its "outside" canary.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/image/layer_apply.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

const fs::path sandbox = "/tmp/berth-layer-fuzz";
const fs::path snapshot = sandbox / "snapshot";
const fs::path canary = sandbox / "outside" / "canary";
constexpr std::string_view canary_text = "untouched";

void escape_found(const std::string& what) {
    std::fprintf(stderr, "layer_apply_fuzz: the layer escaped its directory: %s\n", what.c_str());
    std::abort();
}

void check_nothing_outside_changed() {
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(sandbox, ignored))
        if (entry.path() != snapshot && entry.path() != canary.parent_path())
            escape_found("made " + entry.path().string());
    for (const auto& entry : fs::directory_iterator(canary.parent_path(), ignored))
        if (entry.path() != canary) escape_found("made " + entry.path().string());
    struct stat st;
    if (::lstat(canary.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
        (st.st_mode & 07777) != 0644)
        escape_found("changed the canary's inode");
    if (berth::read_file(canary.string()) != canary_text) escape_found("wrote into the canary");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::error_code ignored;
    fs::remove_all(sandbox, ignored);
    fs::create_directories(snapshot);
    fs::create_directories(canary.parent_path());
    berth::write_file_atomic(canary.string(), std::string(canary_text));
    ::chmod(canary.c_str(), 0644);

    berth::image::MemorySource source(std::string_view(reinterpret_cast<const char*>(data), size));
    berth::image::TarReader reader(source);
    berth::image::ApplyOptions options;
    options.max_bytes = 1 << 20;
    options.preserve_ownership = size > 0 && (data[0] & 1) != 0; // both modes, chosen by the input
    int root = ::open(snapshot.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    try {
        berth::image::apply_layer(reader, root, options);
    } catch (const berth::Error&) {
    }
    ::close(root);
    check_nothing_outside_changed();
    fs::remove_all(sandbox, ignored);
    return 0;
}
