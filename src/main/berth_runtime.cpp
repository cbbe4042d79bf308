#include "berth/runtime_cli/main.h"

int main(int argc, char** argv) {
    return berth::runtime_cli::main(argc, argv);
}
