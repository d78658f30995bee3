/* t_lline.c - the logical-line reader shared by table source and header_checks files (TAP). */
#include <string.h>

#include "lline.h"
#include "tap.h"

/* Each case: input, then the logical lines it gives joined by '|' with their first line
 * numbers, and how it ends. */
static const struct {
    const char *name, *in;
    size_t len; /* 0: strlen(in) */
    const char *want;
    enum sh_lline_status end;
    unsigned end_line; /* the offending line, for errors */
} cases[] = {
    {"plain lines", "a 1\nb 2\n", 0, "1:a 1|2:b 2", SH_LLINE_END, 0},
    {"no final newline", "a 1\nb 2", 0, "1:a 1|2:b 2", SH_LLINE_END, 0},
    {"continuation keeps its white space", "a 1\n  2\n\t3\nb\n", 0, "1:a 1  2\t3|4:b", SH_LLINE_END,
     0},
    {"comments and blank lines end nothing", "a 1\n# c\n\n   \n  2\nb\n", 0, "1:a 1  2|6:b",
     SH_LLINE_END, 0},
    {"an indented # is a comment (Postfix)", "a\n  # not text\nb\n", 0, "1:a|3:b", SH_LLINE_END, 0},
    {"CRLF", "a 1\r\n  2\r\nb\r\n", 0, "1:a 1  2|3:b", SH_LLINE_END, 0},
    {"continuation with nothing before it", "# c\n  x\n", 0, "", SH_LLINE_ORPHAN, 2},
    {"vertical tab continues too", "\vx\n", 0, "", SH_LLINE_ORPHAN, 1},
    {"NUL byte", "a\nb\0c\n", 6, "1:a", SH_LLINE_NUL, 2},
    {"too long", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 0, "", SH_LLINE_TOO_LONG, 1},
    {"too long through a continuation", "aaaaaaaaaaaaaaaaaaaa\n  bbbbbbbbbbbbbbbbbbbb\n", 0, "",
     SH_LLINE_TOO_LONG, 1},
    {"empty input", "", 0, "", SH_LLINE_END, 0},
    {"only comments", "#a\n#b", 0, "", SH_LLINE_END, 0},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sh_lline r;
        char buf[32], got[256] = "";
        unsigned line = 0;
        enum sh_lline_status st;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);

        sh_lline_init(&r, cases[i].in, len);
        while ((st = sh_lline_next(&r, buf, sizeof(buf), &line)) == SH_LLINE_OK) {
            size_t n = strlen(got);
            snprintf(got + n, sizeof(got) - n, "%s%u:%s", n ? "|" : "", line, buf);
        }
        is_str(got, cases[i].want, "%s: lines", cases[i].name);
        ok(st == cases[i].end && (st == SH_LLINE_END || line == cases[i].end_line),
           "%s: ends with %d at line %u (want %d at %u)", cases[i].name, (int)st, line,
           (int)cases[i].end, cases[i].end_line);
    }
    return done_testing();
}
