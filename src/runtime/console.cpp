#include "console.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/base/unix_socket.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

namespace berth::runtime {

Console open_console(const oci::Process& process) {
    Console console;
    console.master = open_fd("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (::unlockpt(console.master.get()) < 0) throw_errno("unlocking the pty");
    char name[128];
    if (::ptsname_r(console.master.get(), name, sizeof name) != 0) throw_errno("naming the pty");
    console.slave_name = name;
    console.slave = open_fd(name, O_RDWR | O_NOCTTY);
    if (process.console_size) {
        winsize size{};
        size.ws_row = static_cast<unsigned short>(process.console_size->height);
        size.ws_col = static_cast<unsigned short>(process.console_size->width);
        if (::ioctl(console.slave.get(), TIOCSWINSZ, &size) < 0) throw_errno("sizing the pty");
    }
    // /dev/console is the container's terminal too, as on a real machine.
    int console_file = ::open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (console_file >= 0) {
        ::close(console_file);
        if (::mount(name, "/dev/console", nullptr, MS_BIND, nullptr) < 0)
            throw_errno("binding the pty onto /dev/console");
    }
    return console;
}

void attach_console(int slave_fd) {
    if (::setsid() < 0) throw_errno("starting a session for the terminal");
    if (::ioctl(slave_fd, TIOCSCTTY, 0) < 0) throw_errno("making the pty the controlling terminal");
    for (int fd = 0; fd < 3; ++fd)
        if (::dup2(slave_fd, fd) < 0) throw_errno("attaching the pty to stdio");
}

void send_console(const std::string& socket_path, int master_fd, const std::string& name) {
    std::string what = "sending the terminal to --console-socket " + socket_path;
    UniqueFd socket_fd = connect_unix(socket_path, what);
    // The payload is the pty's name, as runc sends it and go-runc reads it.
    if (send_with_fd(socket_fd.get(), name, master_fd) < 0) throw_errno(what);
}

} // namespace berth::runtime
