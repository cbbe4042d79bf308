// Fuzz target: --format templates come from the user's command line. Any
// bytes must parse and render (over a container-like document) or end in a
// berth::Error, never a crash, a hang or a stack overflow.
#include "../../src/cli/go_template.h"
#include "berth/base/error.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const nlohmann::json document = {
        {"Id", "abc"},
        {"Name", "/web"},
        {"Args", {"-c", "sleep 1"}},
        {"State", {{"Running", true}, {"Pid", 42}, {"ExitCode", 0}, {"Health", nullptr}}},
        {"Config", {{"Labels", {{"a", "b"}}}, {"Env", {"A=1", "B=2"}}}},
        {"NetworkSettings", {{"Networks", {{"bridge", {{"IPAddress", "10.0.0.2"}}}}}}}};
    static const nlohmann::json methods = {{"Label", {{"a", "b"}}}};
    try {
        berth::cli::Template compiled(std::string(reinterpret_cast<const char*>(data), size));
        compiled.render(document, methods);
        compiled.header({{"Id", "ID"}});
    } catch (const berth::Error&) {
    }
    return 0;
}
