// RUN: the command in a real container of the engine, on an overlay of the
// stage's layers; the layer is what it changed (the diff of its upper).
#include "build_steps.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/image/layer_diff.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::build::detail {

namespace {

// The files the runtime creates as mount targets when the image lacks them:
// empty placeholders, not the command's own changes.
const std::set<std::string> mount_placeholders = {"etc/hosts", "etc/hostname", "etc/resolv.conf"};

std::set<std::string> placeholders_in(int upper_fd) {
    std::set<std::string> found;
    for (const auto& path : mount_placeholders) {
        struct stat info {};
        if (::fstatat(upper_fd, path.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(info.st_mode) && info.st_size == 0)
            found.insert(path);
    }
    return found;
}

// Sends the container's output to /dev/null while it lives (berth build -q).
class QuietOutput {
  public:
    explicit QuietOutput(bool quiet) {
        if (!quiet) return;
        std::fflush(stdout);
        saved_out_ = UniqueFd(::fcntl(1, F_DUPFD_CLOEXEC, 3));
        saved_err_ = UniqueFd(::fcntl(2, F_DUPFD_CLOEXEC, 3));
        UniqueFd null = open_fd("/dev/null", O_WRONLY);
        ::dup2(null.get(), 1);
        ::dup2(null.get(), 2);
    }
    ~QuietOutput() {
        if (saved_out_) ::dup2(saved_out_.get(), 1);
        if (saved_err_) ::dup2(saved_err_.get(), 2);
    }

  private:
    UniqueFd saved_out_, saved_err_;
};

} // namespace

oci::Descriptor run_step(engine::Engine& engine, const StoreAccess& store, const image::Image& base,
                         const RunSpec& spec) {
    engine::RunRequest request;
    request.image = base.manifest_digest.str();
    request.entrypoint_given = true; // the image's ENTRYPOINT and CMD do not apply
    request.command = spec.args;
    request.env = spec.env;
    request.workdir = spec.workdir;
    request.user = spec.user;
    request.network = spec.network.empty() ? "bridge" : spec.network;
    engine::ContainerRecord container = engine.create(request);
    auto remove = [&] {
        try {
            engine.remove(container.id, true);
        } catch (const Error&) {
        }
    };
    try {
        int exit_code = 0;
        {
            QuietOutput quiet(spec.quiet);
            store.close();
            engine::Attachment attachment = engine.start(container.id, true);
            attachment.wait_started();
            exit_code = attachment.stream_until_exit();
        }
        engine.wait(container.id); // the monitor is done: nothing writes to the upper
        if (exit_code != 0)
            throw RunStepFailed(
                "did not complete successfully: exit code " + std::to_string(exit_code), exit_code);
        std::string dir = engine.container_dir(container.id);
        UniqueFd upper = open_fd(dir + "/upper", O_RDONLY | O_DIRECTORY);
        image::LayerDiffOptions options;
        options.clamp_mtime = spec.clamp_mtime;
        options.excluded = placeholders_in(upper.get());
        auto stored =
            image::store_layer_from_upper(store.open().blobs(), upper.get(), dir, options);
        for (const auto& path : options.excluded)
            ::unlinkat(upper.get(), path.c_str(), 0);
        adopt_as_snapshot(store.open(), base, stored, dir + "/upper");
        remove();
        return stored.layer;
    } catch (const engine::StartError& error) {
        remove();
        throw RunStepFailed(error.what(), error.exit_code());
    } catch (...) {
        remove();
        throw;
    }
}

} // namespace berth::build::detail
