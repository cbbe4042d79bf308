#include "berth/cli/main.h"

int main(int argc, char** argv) {
    return berth::cli::main(argc, argv);
}
