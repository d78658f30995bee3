/* control_codec.c - the control protocol's request parser and reply framing. */
#include <string.h>

#include "control_codec.h"

enum ctl_parse ctl_parse(const char *buf, size_t len, struct ctl_request *r, size_t *used,
                         const char **why)
{
    const char *nl = memchr(buf, '\n', len < CTL_MAX_LINE + 2 ? len : CTL_MAX_LINE + 2);
    size_t n, start = 0, word = 0;

    memset(r, 0, sizeof(*r));
    *why = NULL;
    if (nl == NULL) {
        if (len > CTL_MAX_LINE + 1) {
            *why = "request line too long";
            return CTL_MALFORMED;
        }
        return CTL_NEED_MORE;
    }
    *used = (size_t)(nl - buf) + 1;
    n = (size_t)(nl - buf);
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n > CTL_MAX_LINE) {
        *why = "request line too long";
        return CTL_MALFORMED;
    }
    if (n == 0) {
        *why = "empty request";
        return CTL_MALFORMED;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i < n && buf[i] != ' ') {
            if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] > 0x7e) {
                *why = "request not printable ASCII";
                return CTL_MALFORMED;
            }
            continue;
        }
        size_t wlen = i - start;
        if (wlen == 0) {
            *why = "empty word (leading, trailing or double space)";
            return CTL_MALFORMED;
        }
        if (word == 0) {
            if (wlen >= sizeof(r->verb)) {
                *why = "verb too long";
                return CTL_MALFORMED;
            }
            memcpy(r->verb, buf + start, wlen);
        } else {
            if (word > CTL_MAX_ARGS) {
                *why = "too many arguments";
                return CTL_MALFORMED;
            }
            memcpy(r->args[word - 1], buf + start, wlen);
            r->nargs = word;
        }
        word++;
        start = i + 1;
    }
    return CTL_OK;
}

bool ctl_write_reply(FILE *out, const char *status, const char *text, size_t len)
{
    size_t off = 0;

    if (fprintf(out, "%s\n", status) < 0)
        return false;
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (text + off)) : len - off;
        if ((text[off] == '.' && l > 0 && fputc('.', out) == EOF) ||
            fwrite(text + off, 1, l, out) != l || fputc('\n', out) == EOF)
            return false;
        off += l + (nl != NULL);
    }
    return fputs(".\n", out) != EOF;
}

int ctl_unstuff(char *line)
{
    if (strcmp(line, ".") == 0)
        return 1;
    if (line[0] == '.')
        memmove(line, line + 1, strlen(line));
    return 0;
}
