// Unix sockets: connecting by path, and passing a file descriptor along with
// a message (SCM_RIGHTS), which is how a pty master or a seccomp notify fd
// reaches the program that asked for it.
#pragma once

#include "berth/base/unique_fd.h"

#include <string>
#include <string_view>
#include <sys/socket.h>

namespace berth {

// A socket of `type` (SOCK_STREAM, SOCK_SEQPACKET) connected to `path`;
// errors name `what`. Paths longer than a socket address holds work too.
UniqueFd connect_unix(const std::string& path, const std::string& what, int type = SOCK_STREAM);

// A socket of `type` bound to `path` (replacing a stale socket file there)
// and listening.
UniqueFd listen_unix(const std::string& path, const std::string& what, int type = SOCK_STREAM);

// sendmsg of `payload` with `fd` attached (none when fd < 0); returns -1
// with errno set on failure, as sendmsg does.
long send_with_fd(int socket_fd, std::string_view payload, int fd);

// Sends all of `message` on a stream socket, `fd` attached to its first part.
void send_all_with_fd(int socket_fd, std::string_view message, int fd, const std::string& what);

// recvmsg of one message and the file descriptor it carries (close-on-exec);
// an error naming `what` when it carries none.
UniqueFd receive_fd(int socket_fd, const std::string& what);

} // namespace berth
