/* t_cred.c - password files: read once, strict permissions, never echoed in errors. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "conf_fixture.h"
#include "maps.h"
#include "tap.h"

static char dir[] = "/tmp/sh-cred-XXXXXX";

static const char *with_file(const char *content, mode_t mode, struct sh_error *err)
{
    static char out[600];
    char path[128], conf[512];
    struct sh_snapshot *s;
    struct sh_answer a;
    int fd;

    snprintf(path, sizeof(path), "%s/pw", dir);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (write(fd, content, strlen(content)) < 0)
        return "WRITE-ERROR";
    close(fd);
    chmod(path, mode);
    snprintf(conf, sizeof(conf),
             "credentials = { c = { user = \"u\"; password = \"file:%s\"; }; };\n"
             "relays = { r = { host = \"r.example\"; credentials = \"c\"; }; };\n"
             "default_relay = \"r\";\n",
             path);
    if ((s = load_text(conf, err)) == NULL)
        return "LOAD-ERROR";
    sh_map_lookup(s, SH_MAP_SASL, "a@b.test", 8, &a);
    snprintf(out, sizeof(out), "%s", a.value ? a.value : "NOTFOUND");
    sh_snapshot_free(s);
    return out;
}

int main(void)
{
    struct sh_error err;

    if (mkdtemp(dir) == NULL)
        return 1;
    is_str(with_file("s3cret\n", 0600, &err), "u:s3cret", "0600 file, trailing newline dropped");
    is_str(with_file("s3cret", 0640, &err), "u:s3cret", "0640 file without newline");
    is_str(with_file("s3cret\r\n", 0400, &err), "u:s3cret", "CRLF dropped");
    is_str(with_file("s3cret\n", 0644, &err), "LOAD-ERROR", "world-readable file refused");
    ok(strstr(err.text, "0644") && !strstr(err.text, "s3cret"),
       "error names the mode, not the secret: %s", err.text);
    is_str(with_file("s3cret\n", 0660, &err), "LOAD-ERROR", "group-writable file refused");
    is_str(with_file("two\nlines\n", 0600, &err), "LOAD-ERROR", "two lines refused");
    ok(!strstr(err.text, "two") && !strstr(err.text, "lines\n"), "no secret in the error");
    is_str(with_file("", 0600, &err), "LOAD-ERROR", "empty file refused");
    is_str(with_file("s3cret\n", 0600, &err), "u:s3cret", "sanity again");
    {
        struct sh_snapshot *s = load_text(
            "credentials = { c = { user = \"u\"; password = \"file:/nonexistent/pw\"; }; };\n",
            &err);
        ok(s == NULL && strstr(err.text, "No such file"), "missing file: %s", err.text);
    }
    {
        struct sh_snapshot *s = load_text(
            "credentials = { c = { user = \"u\"; password = \"enc:v1:AAAA\"; }; };\n", &err);
        ok(s == NULL, "enc: value without a vault is an error, never an empty password");
        sh_snapshot_free(s);
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/pw", dir);
    unlink(path);
    rmdir(dir);
    return done_testing();
}
