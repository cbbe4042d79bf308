// The `berth` command line: argument parsing and output, one file per
// command group, each a thin layer over the engine's libraries.
#pragma once

namespace berth::cli {

int main(int argc, char** argv);

} // namespace berth::cli
