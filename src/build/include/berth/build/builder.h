// `berth build`: a Dockerfile and a context to an image in the store. Each
// stage the target needs is built in order; RUN runs in a real container
// of the engine, COPY and ADD write into an overlay of the stage's layers,
// and each layer is the diff of that overlay's upper directory. Steps whose
// inputs are unchanged are taken from the cache.
#pragma once

#include "berth/engine/engine.h"
#include "berth/image/image_store.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace berth::build {

struct BuildOptions {
    std::string context_dir;
    std::string dockerfile_text;
    std::string dockerfile_name = "Dockerfile"; // for errors: "Dockerfile:3: ..."
    std::vector<std::string> tags;
    std::map<std::string, std::string> build_args;
    std::string target; // a stage name; "" for the last stage
    bool no_cache = false;
    std::map<std::string, std::string> labels;
    bool quiet = false; // no step output, no RUN output
    // --secret id=..,src=..: id -> a file on the host, for RUN --mount=type=secret.
    std::map<std::string, std::string> secrets;
    // SOURCE_DATE_EPOCH: every timestamp (config, history, files in new
    // layers) at most this, so the same inputs give the same image.
    std::optional<std::int64_t> source_date_epoch;
    // --pull: every FROM image is pulled again, through `pull_image`
    // (the registry layer is the CLI's to call), with berth.db closed.
    bool pull = false;
    std::function<void(const std::string& reference)> pull_image;
    // ADD http(s)://...: writes the URL's body into `fd` and returns its
    // Last-Modified header ("" if none); Error when it cannot (not a 2xx).
    std::function<std::string(const std::string& url, int fd)> fetch_url;
    // Where progress lines go ("Step 2/5 : RUN make").
    std::function<void(const std::string&)> progress;
};

// A RUN that exited non-zero: the build stops with its exit code.
class RunStepFailed : public Error {
  public:
    RunStepFailed(const std::string& message, int exit_code)
        : Error(message), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

  private:
    int exit_code_;
};

// The builder opens the store itself and closes it while a RUN container
// starts: the container's monitor is forked from this process and must not
// inherit an open connection to berth.db.
image::Image build_image(const image::StoreOptions& store_options, engine::Engine& engine,
                         const BuildOptions& options);

} // namespace berth::build
