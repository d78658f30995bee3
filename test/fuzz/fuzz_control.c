/* fuzz_control.c - the control protocol codec (libFuzzer target): any bytes parse to a
 * request, need-more or malformed; a parsed request has only printable words within
 * their buffers; framing any bytes as a reply and reading it back with ctl_unstuff gives
 * the text back line by line, and the terminator appears exactly once, at the end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void word(const char *w, size_t cap, bool may_be_empty)
{
    size_t n = strnlen(w, cap);

    if (n == cap || (!may_be_empty && n == 0))
        abort();
    for (size_t i = 0; i < n; i++)
        if (w[i] < 0x21 || w[i] > 0x7e)
            abort();
}

/* Reply framing round trip over the text lines of DATA (NUL bytes dropped). */
static void round_trip(const char *data, size_t size)
{
    char *text = malloc(size + 1), *out = NULL, *line, *save = NULL;
    size_t tlen = 0, olen = 0, i = 0;
    FILE *fp;
    int terminators = 0;

    if (text == NULL)
        return;
    for (size_t k = 0; k < size; k++)
        if (data[k] != 0)
            text[tlen++] = data[k];
    text[tlen] = 0;
    if ((fp = open_memstream(&out, &olen)) == NULL || !ctl_write_reply(fp, "OK", text, tlen))
        abort();
    fclose(fp);
    /* out = "OK\n" lines... ".\n": compare each unstuffed line with the text's */
    if (olen < 5 || strncmp(out, "OK\n", 3) != 0 || memcmp(out + olen - 3, "\n.\n", 3) != 0)
        abort();
    out[olen - 1] = 0;
    for (line = strtok_r(out + 3, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (ctl_unstuff(line) == 1) {
            terminators++;
            continue;
        }
        if (terminators)
            abort(); /* text after the terminator */
        size_t l = strlen(line);
        while (i < tlen && text[i] == '\n') /* strtok skips empty lines */
            i++;
        if (strncmp(text + i, line, l) != 0)
            abort();
        i += l;
    }
    if (terminators != 1)
        abort();
    free(out);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ctl_request r;
    const char *why;
    size_t used = 0;

    switch (ctl_parse((const char *)data, size, &r, &used, &why)) {
    case CTL_OK:
        if (used == 0 || used > size || used > CTL_MAX_LINE + 2 || data[used - 1] != '\n')
            abort();
        word(r.verb, sizeof(r.verb), false);
        if (r.nargs > CTL_MAX_ARGS)
            abort();
        for (size_t k = 0; k < r.nargs; k++)
            word(r.args[k], sizeof(r.args[k]), false);
        break;
    case CTL_MALFORMED:
        if (why == NULL)
            abort();
        break;
    case CTL_NEED_MORE:
        if (memchr(data, '\n', size) != NULL || size > CTL_MAX_LINE + 1)
            abort();
        break;
    }
    round_trip((const char *)data, size);
    return 0;
}
