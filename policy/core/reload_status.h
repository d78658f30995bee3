/* reload_status.h - how a running smarthostd tells smarthostctl whether a (re)load
 * was accepted: a small text file next to its pidfile ("PIDFILE.status"),
 *   pid=123 generation=4 result=ok|failed error=<loader message, no secret> end
 * one "name=value" per line, rewritten after every load through a descriptor
 * opened before privileges are dropped. The generation grows by one per load, so
 * a CLI that read it before its SIGHUP knows when its own reload has been judged. */
#ifndef SH_RELOAD_STATUS_H
#define SH_RELOAD_STATUS_H

#include <stdbool.h>
#include <stddef.h>

struct sh_reload_status {
    long pid;
    unsigned long generation;
    bool ok;
    char error[1024];
};

/* Open (create) PIDFILE.status for writing; -1 when it cannot be (the caller warns). */
int sh_reload_status_open(const char *pidfile);
/* Replace the file's content; ERROR is the loader's message when !OK. */
void sh_reload_status_write(int fd, unsigned long generation, bool ok, const char *error);
/* Read PIDFILE.status; false when absent or incomplete (being rewritten: retry). */
bool sh_reload_status_read(const char *pidfile, struct sh_reload_status *st);
void sh_reload_status_unlink(const char *pidfile);

#endif
