// The two stages of a container's monitor, and what passes between them.
//
// Stage one is forked from the berth command (monitor.cpp): it creates the
// container through the runtime library, wires its network and starts it,
// which needs SQLite and most of the engine. When a command waits for the
// container's exit (an attached `run`), stage one first watches it itself
// for a moment: a short container ends there, its exit recorded at once,
// without the two execs below. For the long wait it then execs
// the small `berth-monitor` (stage two, relay.cpp), handing over the fds it
// needs and the init's pid: the init stays its child across the exec, and so
// does the child-subreaper bit. berth-monitor links no SQLite and no JSON
// library and holds no copy of the CLI's heap, so a running container costs
// a few hundred KiB. When the init exits, berth-monitor execs berth's exit
// command (monitor.cpp again) with the wait status: it records the exit,
// takes the container apart and applies the restart policy; a restart starts
// the container in that process and execs berth-monitor again. The pid never
// changes, so the monitor pid berth.db records stays true throughout.
//
// Both hand-overs are argv lists of `--name=value` words; the fds keep their
// numbers across the exec (their close-on-exec flag cleared just before).
#pragma once

#include "berth/engine/json_log.h"

#include <string>
#include <sys/types.h>
#include <vector>

namespace berth::engine {

// What berth-monitor needs to watch a started container.
struct RelayPlan {
    pid_t init_pid = 0;
    int stdout_read = -1;       // the container's stdout pipe (no terminal)
    int stderr_read = -1;       // its stderr pipe (no terminal)
    int console = -1;           // the pty master (-t)
    int stdin_write = -1;       // the stdin pipe's write end (-i without -t)
    bool console_input = false; // -it: input from attached commands goes to the console
    int control = -1;           // the attached command's socket, if any
    int attach_listener = -1;   // where `berth attach` connects
    // Held open, unused, for as long as the container runs: the other end's
    // reader ends when they close (slirp4netns's --exit-fd).
    std::vector<int> held_fds;
    std::string log_path; // the json-file log; empty: no log
    LogRotation log_rotation;
    // What stage one's own watch leaves to berth-monitor: how long the
    // container has run so far, and the start of a line not yet logged.
    long ran_before_ms = 0;
    std::string unfinished_stdout, unfinished_stderr;
    // Run every `periodic_interval_ms` while the container runs, never two
    // at once (for health checks: `berth healthcheck run ID`); empty: none.
    std::vector<std::string> periodic_command;
    int periodic_interval_ms = 0;
    // Exec'd once the init has exited and its output is drained, with
    // --status=<wait status, -1 unknown>, --ran-ms=<ms> and --control=<fd,
    // -1 none> appended.
    std::vector<std::string> exit_command;
};

std::vector<std::string> encode_relay_plan(const RelayPlan& plan);
// Throws Error naming a malformed or unknown word.
RelayPlan decode_relay_plan(const std::vector<std::string>& args);

// What the exit command receives from berth-monitor.
struct RelayOutcome {
    int wait_status = -1; // -1: unknown (the init was not our child)
    long ran_ms = 0;
    int control = -1;
};

// Splits the words berth-monitor appended off `args` (a hidden command's).
RelayOutcome take_relay_outcome(std::vector<std::string>& args);

// execv(argv[0], argv); returns only on failure, with errno set.
void exec_words(const std::vector<std::string>& words);

// Clears close-on-exec on `fd` (if >= 0), so that it survives an exec.
void keep_across_exec(int fd);

// "--name=value" → value, if `word` starts with "--name=".
bool word_value(const std::string& word, const char* name, std::string& value);

} // namespace berth::engine
