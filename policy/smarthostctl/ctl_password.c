/* ctl_password.c - a password from the prompt (no echo), stdin, or (with a warning) argv. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_args.h"
#include "ctl_relay.h"

bool ctl_read_password(const char *arg, bool from_stdin, const char *user, char *buf, size_t cap)
{
    struct termios old, quiet;
    FILE *in = stdin;
    bool tty = false;
    size_t len;

    if (arg) {
        ctl_warn("a password on the command line is visible in ps and shell "
                 "history; prefer --password-stdin or the prompt");
        if (strlen(arg) >= cap)
            return ctl_bad("password", "(hidden)", "longer than 1024 characters");
        snprintf(buf, cap, "%s", arg);
        return true;
    }
    if (!from_stdin) {
        if (!isatty(STDIN_FILENO)) {
            ctl_err("no password: give --password-stdin or run on a tty");
            return false;
        }
        tty = tcgetattr(STDIN_FILENO, &old) == 0;
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        fprintf(stderr, "Password for %s: ", user);
        if (tty)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    if (fgets(buf, (int)cap, in) == NULL)
        buf[0] = 0;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    len = strlen(buf);
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = 0;
    else if (len + 1 >= cap)
        return ctl_bad("password", "(hidden)", "longer than 1024 characters");
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = 0;
    if (len == 0)
        return ctl_bad("password", "(empty)", "user and password go together: give both");
    return true;
}
