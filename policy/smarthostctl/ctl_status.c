/* ctl_status.c - smarthostctl status and stats: what the running daemons say about themselves. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_codec.h"
#include "ctl.h"
#include "ctl_status.h"
#include "ctl_usage.h"

#define ASK_TIMEOUT 10 /* seconds for the whole answer */

enum ctl_ask ctl_ask(const char *path, const char *request, FILE *out)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct timeval tv = {ASK_TIMEOUT, 0};
    char line[CTL_MAX_LINE + 2];
    size_t total = 0;
    bool first = true, ended = false, ok = false;
    FILE *in;
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path) || strlen(request) > CTL_MAX_LINE) {
        ctl_err("%s: path or request too long", path);
        return CTL_ASK_ERROR;
    }
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return CTL_ASK_ERROR;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            return CTL_ASK_ABSENT;
        ctl_err("%s: %s", path, strerror(e));
        return CTL_ASK_ERROR;
    }
    if (dprintf(fd, "%s\n", request) < 0 || (in = fdopen(fd, "r")) == NULL) {
        close(fd);
        ctl_err("%s: cannot send the request", path);
        return CTL_ASK_ERROR;
    }
    while (fgets(line, sizeof(line), in) != NULL) {
        size_t n = strlen(line);
        total += n;
        if (n == 0 || line[n - 1] != '\n' || total > CTL_MAX_REPLY)
            break; /* a line longer than any we send, or too much: not our daemon */
        line[n - 1] = 0;
        if (first) {
            first = false;
            if (strcmp(line, "OK") != 0) {
                ctl_err("%s: %s", path, line);
                break;
            }
            ok = true;
            continue;
        }
        if (ctl_unstuff(line) == 1) {
            ended = true;
            break;
        }
        fprintf(out, "%s\n", line);
    }
    fclose(in);
    if (ok && !ended) {
        ctl_err("%s: the answer broke off", path);
        return CTL_ASK_ERROR;
    }
    return ok ? CTL_ASK_OK : CTL_ASK_ERROR;
}

static void status_usage(FILE *out, const char *verb)
{
    fprintf(out,
            "usage: smarthostctl %s%s [--control PATH]...\n"
            "  asks each running daemon over its control socket (default %s and %s;\n"
            "  root, or the daemon's --control-group)\n"
            "%s",
            verb, strcmp(verb, "stats") == 0 ? " [--prometheus]" : "", CTL_CONTROL_DEFAULT,
            CTL_CONTROL_MILTER_DEFAULT,
            strcmp(verb, "stats") == 0
                ? "  --prometheus  the Prometheus text format (HELP/TYPE, relay and rule labels)\n"
                : "");
}

void ctl_status_usage(FILE *out)
{
    status_usage(out, "status");
}

void ctl_stats_usage(FILE *out)
{
    status_usage(out, "stats");
}

static int ask_all(int argc, char **argv, const char *verb)
{
    static const struct option opts[] = {{"control", required_argument, NULL, 'C'},
                                         {"prometheus", no_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *paths[8];
    size_t npaths = 0, answered = 0;
    bool prom = false, dflt;
    int ch, rc = CTL_OK;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'C':
            if (npaths == sizeof(paths) / sizeof(paths[0]))
                return ctl_usage_err("at most 8 --control paths");
            paths[npaths++] = optarg;
            break;
        case 'P':
            if (strcmp(verb, "stats") != 0)
                goto usage;
            prom = true;
            break;
        case 'h':
            status_usage(stdout, verb);
            return CTL_OK;
        default:
            goto usage;
        }
    }
    if (optind != argc)
        goto usage;
    if ((dflt = npaths == 0)) {
        paths[npaths++] = CTL_CONTROL_DEFAULT;
        paths[npaths++] = CTL_CONTROL_MILTER_DEFAULT;
    }
    for (size_t i = 0; i < npaths; i++) {
        enum ctl_ask a;
        if (!prom && answered > 0)
            printf("\n");
        if (!prom)
            printf("== %s\n", paths[i]);
        fflush(stdout);
        a = ctl_ask(paths[i], prom ? "stats prometheus" : verb, stdout);
        if (a == CTL_ASK_OK)
            answered++;
        else if (a == CTL_ASK_ERROR)
            rc = CTL_FAIL;
        else if (!prom)
            printf("not running (no control socket at %s)\n", paths[i]);
        if (a == CTL_ASK_ABSENT && !dflt)
            rc = ctl_err("%s: no daemon listens there", paths[i]);
    }
    if (answered == 0 && rc == CTL_OK)
        rc = ctl_err("no daemon answered (is --control set in its unit?)");
    return rc;
usage:
    status_usage(stderr, verb);
    return CTL_USAGE;
}

int ctl_status(struct ctl_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    return ask_all(argc, argv, "status");
}

int ctl_stats(struct ctl_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    return ask_all(argc, argv, "stats");
}

void ctl_ratelimit_usage(FILE *out)
{
    fprintf(out,
            "usage: smarthostctl ratelimit show [KEY] [--control PATH]\n"
            "       smarthostctl ratelimit reset KEY [--control PATH]\n"
            "  the rate-limit budgets smarthostd holds (its memory store or its Redis):\n"
            "  per counter used/limit, window and seconds left; KEY is a SASL user, sender,\n"
            "  sender domain or relay name; reset (root only) clears KEY's counters.\n"
            "  Asks smarthostd's control socket (default %s)\n",
            CTL_CONTROL_DEFAULT);
}

int ctl_ratelimit(struct ctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"control", required_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = CTL_CONTROL_DEFAULT;
    char req[CTL_MAX_LINE + 1];
    int ch, n;
    enum ctl_ask a;

    (void)ctx;
    optind = 0; /* a full restart of getopt: options may follow KEY */
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'C':
            path = optarg;
            break;
        case 'h':
            ctl_ratelimit_usage(stdout);
            return CTL_OK;
        default:
            goto usage;
        }
    }
    argc -= optind, argv += optind;
    if (argc == 1 && strcmp(argv[0], "show") == 0)
        n = snprintf(req, sizeof(req), "ratelimit show");
    else if (argc == 2 && (strcmp(argv[0], "show") == 0 || strcmp(argv[0], "reset") == 0) &&
             argv[1][0] && strcspn(argv[1], " \t\r\n") == strlen(argv[1]))
        n = snprintf(req, sizeof(req), "ratelimit %s %s", argv[0], argv[1]);
    else
        goto usage;
    if (n < 0 || (size_t)n >= sizeof(req))
        return ctl_usage_err("KEY too long");
    a = ctl_ask(path, req, stdout);
    if (a == CTL_ASK_ABSENT)
        return ctl_err("%s: no daemon listens there (is --control set in its unit?)", path);
    return a == CTL_ASK_OK ? CTL_OK : CTL_FAIL;
usage:
    ctl_ratelimit_usage(stderr);
    return CTL_USAGE;
}
