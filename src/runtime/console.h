// process.terminal: a pty made inside the container's own devpts, whose
// slave becomes the process's stdio and controlling terminal and whose master
// goes to the caller over --console-socket, as runc sends it (SCM_RIGHTS).
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/oci/runtime_spec.h"

#include <string>

namespace berth::runtime {

struct Console {
    UniqueFd master;
    UniqueFd slave;
    std::string slave_name; // "/dev/pts/0"
};

// In the init, after the switch of root: opens /dev/ptmx and the slave, sizes it.
Console open_console(const oci::Process& process);

// In the init, at exec time: the slave becomes stdio and the controlling tty.
void attach_console(int slave_fd);

// In the runtime: hands the master to whoever listens on `socket_path`.
void send_console(const std::string& socket_path, int master_fd, const std::string& name);

} // namespace berth::runtime
