/*
 * berth-probe: a tiny static program placed inside test containers.
 *
 * Integration tests cannot easily look *into* a container, so this program
 * reports, as one JSON object on stdout, everything about its own execution
 * environment that a container runtime is responsible for setting up: ids,
 * capabilities, mounts, rlimits, namespaces, open fds, and so on.  Tests then
 * parse that object and assert on it.
 *
 * It is linked statically so that it runs in a rootfs with no libc at all, and
 * it only reads from /proc and libc/syscalls, so it works under any user id.
 *
 * Modes (argv[1]):
 *   (none) | json [ARGS...]  print the JSON report, exit 0 (ARGS only show up in
 *                            "args", to check argv passing)
 *   exit N                   exit with status N (for exit-code propagation)
 *   sleep SECONDS            sleep (fractional allowed), then exit 0
 *   write PATH TEXT          create/truncate PATH with TEXT (no newline added)
 *   cat PATH                 copy PATH to stdout
 * Errors in the helper modes go to stderr and exit 1; usage errors exit 2.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ------------------------------------------------------------------------ */
/* Minimal JSON emitter.                                                      */
/*                                                                            */
/* Output is one line, built with stdio and flushed once at the end, so a     */
/* test reading through a pipe or pty gets the whole object or nothing.       */
/* `need_comma` tracks whether the next value in the current container must   */
/* be preceded by a comma; nesting depth is small and fixed, so a plain       */
/* array works as the stack.                                                  */
/* ------------------------------------------------------------------------ */

#define MAX_DEPTH 16
static bool need_comma[MAX_DEPTH];
static int depth;

/* Called before every value or key: inserts the separating comma. */
static void sep(void) {
    if (need_comma[depth])
        putchar(',');
    need_comma[depth] = true;
}

static void open_container(char c) {
    sep();
    putchar(c);
    if (depth + 1 < MAX_DEPTH)
        depth++;
    need_comma[depth] = false;
}

static void close_container(char c) {
    putchar(c);
    if (depth > 0)
        depth--;
}

/*
 * Length of a valid UTF-8 sequence starting at s (at most n bytes), or 0 if it
 * is not valid.  Paths, env and argv are arbitrary bytes on Linux; emitting
 * them raw could produce JSON that strict parsers (nlohmann) reject, so bytes
 * that are not valid UTF-8 are escaped individually as \u00XX instead.
 */
static size_t utf8_len(const unsigned char *s, size_t n) {
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, min = 0x80, cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, min = 0x800, cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* Reject overlong forms, surrogates and out-of-range code points. */
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static void raw_string(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    putchar('"');
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            putchar('\\');
            putchar(c);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            printf("\\u%04x", c);
            i++;
        } else {
            size_t len = utf8_len(s + i, n - i);
            if (len == 0) {
                printf("\\u%04x", c);
                i++;
            } else {
                fwrite(s + i, 1, len, stdout);
                i += len;
            }
        }
    }
    putchar('"');
}

static void key(const char *k) {
    sep();
    raw_string(k);
    putchar(':');
    /* The value that follows must not get its own comma. */
    need_comma[depth] = false;
}

static void str_val(const char *v) {
    sep();
    if (v)
        raw_string(v);
    else
        fputs("null", stdout);
}

static void num_val(long long v) {
    sep();
    printf("%lld", v);
}

static void unum_val(unsigned long long v) {
    sep();
    printf("%llu", v);
}

static void bool_val(bool v) {
    sep();
    fputs(v ? "true" : "false", stdout);
}

static void null_val(void) {
    sep();
    fputs("null", stdout);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------ */

/* Symbolic errno ("EROFS"); tests compare names, not locale-dependent text. */
static const char *errno_name(int err) {
    const char *name = strerrorname_np(err);
    static char buf[32];
    if (name)
        return name;
    snprintf(buf, sizeof buf, "E%d", err);
    return buf;
}

/* readlink() into a static-size buffer, NUL-terminated; NULL on failure. */
static const char *read_link(const char *path, char *buf, size_t size) {
    ssize_t n = readlink(path, buf, size - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

/*
 * Find "Name:\t<value>" in /proc/self/status and copy the value.  Reading the
 * file fresh for each lookup keeps the code simple; it is tiny.
 */
static bool status_field(const char *name, char *out, size_t size) {
    FILE *f = fopen("/proc/self/status", "re");
    char line[512];
    size_t nlen = strlen(name);
    bool found = false;
    if (!f)
        return false;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, nlen) == 0 && line[nlen] == ':') {
            char *v = line + nlen + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(out, size, "%s", v);
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

/* Emit a numeric /proc/self/status field, or null if the kernel lacks it. */
static void status_number(const char *name) {
    char v[64];
    if (status_field(name, v, sizeof v))
        num_val(strtoll(v, NULL, 10));
    else
        null_val();
}

/*
 * mountinfo escapes space, tab, newline and backslash as \ooo octal; decode in
 * place so tests can compare against the real path.
 */
static void unescape_octal(char *s) {
    char *out = s;
    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 4;
        } else {
            *out++ = *s++;
        }
    }
    *out = '\0';
}

/* ------------------------------------------------------------------------ */
/* Report sections                                                            */
/* ------------------------------------------------------------------------ */

static void report_ids(void) {
    gid_t groups[NGROUPS_MAX];
    int n = getgroups(NGROUPS_MAX, groups);

    key("pid");
    num_val(getpid());
    key("ppid");
    num_val(getppid());
    key("uid");
    unum_val(getuid());
    key("gid");
    unum_val(getgid());
    key("euid");
    unum_val(geteuid());
    key("egid");
    unum_val(getegid());
    key("groups");
    open_container('[');
    for (int i = 0; i < n; i++)
        unum_val(groups[i]);
    close_container(']');
}

static void report_umask(void) {
    char v[64];
    key("umask");
    /* Prefer the kernel's view (4.7+): umask() itself has to modify it. */
    if (status_field("Umask", v, sizeof v)) {
        num_val(strtoll(v, NULL, 8));
    } else {
        mode_t m = umask(0);
        umask(m);
        num_val(m);
    }
}

/*
 * Uses the raw syscall rather than getcwd(3): glibc turns the kernel's
 * "(unreachable)/..." answer (cwd outside our root, a classic container escape
 * symptom) into ENOENT, and tests want to see it verbatim.  On failure the
 * value is "error:<ERRNO>".
 */
static void report_cwd(void) {
    static char buf[PATH_MAX + 1];
    long n = syscall(SYS_getcwd, buf, sizeof buf - 1);
    key("cwd");
    if (n < 0) {
        char err[64];
        snprintf(err, sizeof err, "error:%s", errno_name(errno));
        str_val(err);
    } else {
        buf[sizeof buf - 1] = '\0';
        str_val(buf);
    }
}

static void report_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    key("fds");
    open_container('[');
    if (d) {
        /* The directory stream's own fd is an artifact of looking; hide it. */
        int self = dirfd(d);
        while ((e = readdir(d))) {
            char path[64];
            char target[PATH_MAX];
            char *end;
            long fd = strtol(e->d_name, &end, 10);
            if (e->d_name[0] == '.' || *end != '\0' || fd == self)
                continue;
            snprintf(path, sizeof path, "/proc/self/fd/%ld", fd);
            open_container('{');
            key("fd");
            num_val(fd);
            key("target");
            str_val(read_link(path, target, sizeof target));
            close_container('}');
        }
        closedir(d);
    }
    close_container(']');
}

static void report_caps(void) {
    static const char *const names[][2] = {
        {"inheritable", "CapInh"}, {"permitted", "CapPrm"}, {"effective", "CapEff"},
        {"bounding", "CapBnd"},    {"ambient", "CapAmb"},
    };
    key("caps");
    open_container('{');
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char v[64];
        key(names[i][0]);
        if (status_field(names[i][1], v, sizeof v))
            str_val(v);
        else
            null_val();
    }
    close_container('}');
}

/*
 * One object per line of /proc/self/mountinfo:
 *   id parent maj:min root target options [optional...] - fstype source super
 * "root" (field 4) is included too: it is what distinguishes a bind mount of a
 * subdirectory from a mount of the whole filesystem.
 */
static void report_mounts(void) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char *line = NULL;
    size_t cap = 0;
    key("mounts");
    open_container('[');
    while (f && getline(&line, &cap, f) > 0) {
        char *fields[64];
        int n = 0;
        int dash = -1;
        char *save = NULL;
        for (char *tok = strtok_r(line, " \n", &save); tok && n < 64;
             tok = strtok_r(NULL, " \n", &save)) {
            if (dash < 0 && n >= 6 && strcmp(tok, "-") == 0)
                dash = n;
            fields[n++] = tok;
        }
        if (dash < 0 || n < dash + 4)
            continue; /* malformed; never seen in practice */
        for (int i = 0; i < n; i++)
            unescape_octal(fields[i]);
        open_container('{');
        key("target");
        str_val(fields[4]);
        key("root");
        str_val(fields[3]);
        key("fstype");
        str_val(fields[dash + 1]);
        key("source");
        str_val(fields[dash + 2]);
        key("options");
        str_val(fields[5]);
        key("super_options");
        str_val(fields[dash + 3]);
        close_container('}');
    }
    free(line);
    if (f)
        fclose(f);
    close_container(']');
}

static void report_rlimits(void) {
    /* Every limit glibc defines; guarded in case an older libc lacks one. */
    static const struct {
        const char *name;
        int resource;
    } limits[] = {
#define LIMIT(x) {#x, x}
        LIMIT(RLIMIT_CPU),      LIMIT(RLIMIT_FSIZE), LIMIT(RLIMIT_DATA),   LIMIT(RLIMIT_STACK),
        LIMIT(RLIMIT_CORE),     LIMIT(RLIMIT_RSS),   LIMIT(RLIMIT_NPROC),  LIMIT(RLIMIT_NOFILE),
        LIMIT(RLIMIT_MEMLOCK),  LIMIT(RLIMIT_AS),    LIMIT(RLIMIT_LOCKS),  LIMIT(RLIMIT_SIGPENDING),
        LIMIT(RLIMIT_MSGQUEUE), LIMIT(RLIMIT_NICE),  LIMIT(RLIMIT_RTPRIO),
#ifdef RLIMIT_RTTIME
        LIMIT(RLIMIT_RTTIME),
#endif
#undef LIMIT
    };
    key("rlimits");
    open_container('{');
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        struct rlimit rl;
        if (getrlimit(limits[i].resource, &rl) != 0)
            continue;
        key(limits[i].name);
        open_container('{');
        key("soft");
        if (rl.rlim_cur == RLIM_INFINITY)
            str_val("unlimited");
        else
            unum_val(rl.rlim_cur);
        key("hard");
        if (rl.rlim_max == RLIM_INFINITY)
            str_val("unlimited");
        else
            unum_val(rl.rlim_max);
        close_container('}');
    }
    close_container('}');
}

static void report_uts(void) {
    struct utsname u;
    bool ok = uname(&u) == 0;
    key("hostname");
    str_val(ok ? u.nodename : NULL);
    key("domainname");
    str_val(ok ? u.domainname : NULL);
}

static void report_namespaces(void) {
    static const char *const names[] = {
        "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children",
        "user",   "uts",
    };
    key("namespaces");
    open_container('{');
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[64];
        char target[128];
        snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
        /* Older kernels lack some (time, cgroup); absent means "not reported". */
        if (read_link(path, target, sizeof target)) {
            key(names[i]);
            str_val(target);
        }
    }
    close_container('}');
}

static void report_strings(const char *name, char **list) {
    key(name);
    open_container('[');
    for (char **p = list; p && *p; p++)
        str_val(*p);
    close_container(']');
}

static void report_oom_score_adj(void) {
    FILE *f = fopen("/proc/self/oom_score_adj", "re");
    long long v;
    key("oom_score_adj");
    if (f && fscanf(f, "%lld", &v) == 1)
        num_val(v);
    else
        null_val();
    if (f)
        fclose(f);
}

/*
 * Can the container reopen its init's binary for writing?  That is how
 * CVE-2019-5736 overwrote the host runc, so runtimes must make it fail.  Only
 * open (no O_TRUNC) and close: the file is never modified.
 */
static void report_exe_writable(void) {
    int fd = open("/proc/1/exe", O_WRONLY | O_CLOEXEC);
    key("exe_writable");
    if (fd >= 0) {
        close(fd);
        str_val("ok");
    } else {
        str_val(errno_name(errno));
    }
}

static void report_tty(void) {
    bool in = isatty(0);
    key("tty");
    open_container('{');
    key("stdin");
    bool_val(in);
    key("stdout");
    bool_val(isatty(1));
    key("stderr");
    bool_val(isatty(2));
    close_container('}');
    key("ttyname");
    str_val(in ? ttyname(0) : NULL);
}

static int print_report(char **argv) {
    /* Full buffering: the object leaves in one write where possible. */
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);

    /* fds first, before anything else we open could show up in the list. */
    open_container('{');
    report_fds();
    report_ids();
    report_umask();
    report_cwd();
    report_caps();
    key("no_new_privs");
    status_number("NoNewPrivs");
    key("seccomp");
    status_number("Seccomp");
    report_mounts();
    report_rlimits();
    report_uts();
    report_namespaces();
    report_strings("env", environ);
    report_strings("args", argv);
    report_oom_score_adj();
    report_exe_writable();
    report_tty();
    close_container('}');
    putchar('\n');

    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "probe: writing report: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Helper modes                                                               */
/* ------------------------------------------------------------------------ */

static int do_sleep(const char *arg) {
    char *end;
    double secs = strtod(arg, &end);
    struct timespec ts;
    if (*end != '\0' || secs < 0) {
        fprintf(stderr, "probe: bad sleep duration '%s'\n", arg);
        return 2;
    }
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    /* Restart after signal handlers that return (e.g. SIGWINCH from a pty). */
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

/* write() until done: a short write is not an error on pipes/ptys. */
static bool write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static int do_write(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "probe: open %s: %s (%s)\n", path, strerror(errno), errno_name(errno));
        return 1;
    }
    if (!write_all(fd, text, strlen(text))) {
        fprintf(stderr, "probe: write %s: %s (%s)\n", path, strerror(errno), errno_name(errno));
        close(fd);
        return 1;
    }
    /* close() can report deferred errors (e.g. ENOSPC on some filesystems). */
    if (close(fd) != 0) {
        fprintf(stderr, "probe: close %s: %s (%s)\n", path, strerror(errno), errno_name(errno));
        return 1;
    }
    return 0;
}

static int do_cat(const char *path) {
    char buf[8192];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "probe: open %s: %s (%s)\n", path, strerror(errno), errno_name(errno));
        return 1;
    }
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "probe: read %s: %s (%s)\n", path, strerror(errno), errno_name(errno));
            close(fd);
            return 1;
        }
        if (!write_all(1, buf, (size_t)n)) {
            fprintf(stderr, "probe: write stdout: %s\n", strerror(errno));
            close(fd);
            return 1;
        }
    }
    close(fd);
    return 0;
}

static int usage(void) {
    fputs("usage: probe [json [ARGS...]] | exit N | sleep SECONDS | write PATH TEXT | cat PATH\n",
          stderr);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "json") == 0)
        return print_report(argv);
    if (strcmp(argv[1], "exit") == 0 && argc == 3)
        return (int)strtol(argv[2], NULL, 10);
    if (strcmp(argv[1], "sleep") == 0 && argc == 3)
        return do_sleep(argv[2]);
    if (strcmp(argv[1], "write") == 0 && argc == 4)
        return do_write(argv[2], argv[3]);
    if (strcmp(argv[1], "cat") == 0 && argc == 3)
        return do_cat(argv[2]);
    return usage();
}
