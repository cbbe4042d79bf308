// berth-runtime's command line: runc's commands, flags, output and exit codes.
#pragma once

namespace berth::runtime_cli {

int main(int argc, char** argv);

} // namespace berth::runtime_cli
