/* t_canon.c - the address canon against what Postfix 3.7 makes of each form (cleanup_addr.c,
 * trivial-rewrite rewrite.c and resolve.c, split_addr.c), one table row per form. */
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "resolve.h"
#include "tap.h"

enum { I = SH_CANON_INTERNAL, E = SH_CANON_EXTERNAL };
enum { OK = SH_CANON_OK, NUL = SH_CANON_NULL, UNJ = SH_CANON_UNJUDGEABLE };

struct row {
    int layout; /* 0: example.com is myorigin and local; 1: null client (nothing local);
                 * 2: myorigin not known; 3: percent hack and bang path off;
                 * 4: append_dot_mydomain = yes, mydomain corp.test */
    int form;
    const char *in;
    int want;
    const char *key;
    int local; /* recipients: 1 local, 0 remote */
};

static const struct row senders[] = {
    {0, I, "boss@example.com", OK, "boss@example.com", 0},
    {0, I, "Boss@Example.COM", OK, "boss@example.com", 0},
    {0, I, "boss%example.com", OK, "boss@example.com", 0},
    {0, I, "example.com!boss", OK, "boss@example.com", 0},
    {0, I, "a!b!boss", OK, "b!boss@a", 0},
    {0, I, "boss%x.test%example.com", OK, "boss%x.test@example.com", 0},
    {0, I, "boss", OK, "boss@example.com", 0},
    {0, I, "boss@example.com.", OK, "boss@example.com", 0},
    {0, I, "boss@example.com..", OK, "boss@example.com..", 0},
    {0, I, "@a.test,@b.test:boss@example.com", OK, "boss@example.com", 0},
    {0, I, "a b@example.com", OK, "a b@example.com", 0},
    {0, E, "<\"a b\"@example.com>", OK, "a b@example.com", 0},
    {0, I, "<>", OK, "<>@example.com", 0},
    {0, E, "<\"<>\">", OK, "<>@example.com", 0},
    {0, I, "", NUL, "", 0},
    {0, E, "<>", NUL, "", 0},
    {0, E, "<\"\">", NUL, "", 0},
    {0, I, "MAILER-DAEMON", NUL, "", 0},
    {0, I, "mailer-daemon@Example.com", NUL, "", 0},
    {0, I, "mailer-daemon@other.test", OK, "mailer-daemon@other.test", 0},
    {0, I,
     "boss@b\xc3\xbc"
     "cher.test",
     OK, "boss@xn--bcher-kva.test", 0},
    {0, I, "boss@XN--BCHER-KVA.test", OK, "boss@xn--bcher-kva.test", 0},
    {0, I,
     "boss@B\xc3\x9c"
     "CHER.test",
     OK, "boss@xn--bcher-kva.test", 0},
    {0, E, "<\"boss%example.com\">", OK, "boss@example.com", 0},
    {0, E, "<@a.test,@b.test:example.com!boss>", OK, "boss@example.com", 0},
    {0, I, "\"boss%example.com\"", OK, "\"boss%example.com\"@example.com", 0},
    {0, I, "boss@[192.0.2.1]", OK, "boss@[192.0.2.1]", 0},
    {0, I, "user+tag@example.com", OK, "user+tag@example.com", 0},
    {0, I, "boss.@example.com", OK, "boss.@example.com", 0},
    {0, I, "boss@example.com@evil.test", OK, "boss@example.com@evil.test", 0},
    {0, E, "<boss(comment)@example.com>", UNJ, "", 0},
    {0, E, "<boss @example.com>", UNJ, "", 0},
    {0, I, "boss@ex ample.com", UNJ, "", 0},
    {0, I, "boss@\xff.test", UNJ, "", 0},
    {0, I, "boss\x01@example.com", UNJ, "", 0},
    {2, I, "boss", UNJ, "", 0},
    {2, I, "boss%example.com", OK, "boss@example.com", 0},
    {2, I, "mailer-daemon@example.com", OK, "mailer-daemon@example.com", 0},
    {3, I, "boss%example.com", OK, "boss%example.com@example.com", 0},
    {3, I, "example.com!boss", OK, "example.com!boss@example.com", 0},
    {4, I, "boss@host", OK, "boss@host.corp.test", 0},
    {4, I, "boss", OK, "boss@example.com", 0},
    {4, I, "boss@[192.0.2.1]", OK, "boss@[192.0.2.1]", 0},
};

static const struct row recipients[] = {
    {0, I, "user@example.com", OK, "user@example.com", 1},
    {0, I, "user@remote.test", OK, "user@remote.test", 0},
    {0, I, "user", OK, "user@example.com", 1},
    {0, I, "user%remote.test@example.com", OK, "user%remote.test@example.com", 0},
    {0, I, "remote.test!user@example.com", OK, "remote.test!user@example.com", 0},
    {0, I, "user%example.com@example.com", OK, "user%example.com@example.com", 1},
    {0, I, "@example.com:user@remote.test", OK, "user@remote.test", 0},
    {0, I, "user@remote.test@example.com", OK, "user@remote.test@example.com", 0},
    {0, E, "<\"user@remote.test\"@example.com>", OK, "user@remote.test@example.com", 0},
    {0, E, "<\"user%remote.test\"@example.com>", OK, "user%remote.test@example.com", 0},
    {0, I, "a b@example.com", OK, "a b@example.com", 1},
    {0, I, "user@EXAMPLE.COM.", OK, "user@example.com", 1},
    {0, I, "user@sub.example.com", OK, "user@sub.example.com", 1},
    {0, I,
     "user@b\xc3\xbc"
     "cher.test",
     OK, "user@xn--bcher-kva.test", 1},
    {0, I, "user@xn--bcher-kva.test", OK, "user@xn--bcher-kva.test", 1},
    {0, I, "user@[192.0.2.1]", OK, "user@[192.0.2.1]", 0},
    {0, I, "", NUL, "", 0},
    {0, I, "user%remote.test", OK, "user@remote.test", 0},
    {0, I, "remote.test!user", OK, "user@remote.test", 0},
    {0, I, "user@remote.test.", OK, "user@remote.test", 0},
    {0, I, "postmaster", OK, "postmaster@example.com", 1},
    {0, I, "user%remote.test%example.com", OK, "user%remote.test@example.com", 0},
    {0, I, "example.com!remote.test!user", OK, "remote.test!user@example.com", 0},
    {0, I, "\"\"@example.com", OK, "\"\"@example.com", 1},
    {0, I, "user@ex ample.com", UNJ, "", 0},
    {0, E, "<user@example.com> x", UNJ, "", 0},
    {1, I, "victim", OK, "victim@example.com", 0},
    {1, I, "victim@example.com", OK, "victim@example.com", 0},
    {1, I, "victim@localhost", OK, "victim@localhost", 1},
    {2, I, "victim", UNJ, "", 0},
    {2, I, "victim@remote.test", OK, "victim@remote.test", 0},
    {3, I, "user%remote.test@example.com", OK, "user%remote.test@example.com", 1},
    {3, I, "remote.test!user@example.com", OK, "remote.test!user@example.com", 1},
    {4, I, "user@remote", OK, "user@remote.corp.test", 0},
    {4, I, "user@host", OK, "user@host.corp.test", 1},
};

static bool is_local(void *ctx, const char *dom)
{
    int layout = *(int *)ctx;
    size_t len = strlen(dom);

    if (layout == 1)
        return strcmp(dom, "localhost") == 0;
    if (layout == 4)
        return strcmp(dom, "host.corp.test") == 0 || strcmp(dom, "example.com") == 0;
    return strcmp(dom, "example.com") == 0 || strcmp(dom, "xn--bcher-kva.test") == 0 ||
           (len > 12 && strcmp(dom + len - 12, ".example.com") == 0);
}

static void layout(int n, struct sh_canon *c)
{
    sh_canon_defaults(c);
    strcpy(c->myorigin, "example.com");
    strcpy(c->mydomain, "example.com");
    strcpy(c->myhostname, "mx.example.com");
    if (n == 2)
        c->myorigin[0] = c->myhostname[0] = 0;
    if (n == 3)
        c->allow_percent_hack = c->swap_bangpath = false;
    if (n == 4) {
        c->append_dot_mydomain = true;
        strcpy(c->mydomain, "corp.test");
    }
}

static const char *rname(int r)
{
    return r == OK ? "OK" : r == NUL ? "NULL" : "UNJUDGEABLE";
}

int main(void)
{
    struct sh_canon c;
    char key[SH_MAX_KEY + 1];
    const char *why;
    bool local;

    for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
        const struct row *r = &senders[i];
        int got;
        layout(r->layout, &c);
        got = sh_canon_sender(&c, r->in, strlen(r->in), r->form, key, &why);
        ok(got == r->want && (got != OK || strcmp(key, r->key) == 0),
           "sender %s <%s> (layout %d) -> %s <%s>", r->form == I ? "internal" : "external", r->in,
           r->layout, rname(r->want), r->key);
        if (got != r->want || (got == OK && strcmp(key, r->key) != 0))
            printf("#   got %s <%s> (%s)\n", rname(got), key, got == UNJ ? why : "");
    }
    for (size_t i = 0; i < sizeof(recipients) / sizeof(recipients[0]); i++) {
        const struct row *r = &recipients[i];
        int lay = r->layout, got;
        layout(lay, &c);
        got = sh_canon_recipient(&c, r->in, strlen(r->in), r->form, is_local, &lay, key, &local,
                                 &why);
        ok(got == r->want && (got != OK || (strcmp(key, r->key) == 0 && local == r->local)),
           "recipient %s <%s> (layout %d) -> %s <%s> %s", r->form == I ? "internal" : "external",
           r->in, lay, rname(r->want), r->key, r->local ? "local" : "remote");
        if (got != r->want || (got == OK && (strcmp(key, r->key) != 0 || local != r->local)))
            printf("#   got %s <%s> %s (%s)\n", rname(got), key, local ? "local" : "remote",
                   got == UNJ ? why : "");
    }

    /* split_addr.c: what Postfix never splits */
    {
        static const struct {
            const char *addr, *delims;
            size_t want;
        } sp[] = {
            {"user+tag@example.com", "+", 4},
            {"user-tag@example.com", "+-", 4},
            {"user@example.com", "+", 0},
            {"+tag@example.com", "+", 0},
            {"owner-list@example.com", "-", 0},
            {"list-request@example.com", "-", 0},
            {"owner-list@example.com", "+", 0},
            {"owner+x@example.com", "+", 5},
            {"a-request@example.com", "+-", 0},
            {"postmaster+x@example.com", "+", 10},
            {"Postmaster@example.com", "+", 0},
            {"mailer-daemon@example.com", "-", 0},
            {"double-bounce@example.com", "-", 0},
            {"a.b=c+d@example.com", "=+", 3},
            {"user+tag", "+", 4},
        };
        for (size_t i = 0; i < sizeof(sp) / sizeof(sp[0]); i++)
            ok(sh_canon_noext(sp[i].addr, strlen(sp[i].addr), sp[i].delims) == sp[i].want,
               "noext <%s> delims \"%s\" -> %zu", sp[i].addr, sp[i].delims, sp[i].want);
    }
    {
        char d[300];
        ok(sh_canon_domain("B\xc3\xbc"
                           "cher.Test.",
                           13, d, sizeof(d)) &&
               strcmp(d, "xn--bcher-kva.test") == 0,
           "domain: U-label, upper case, trailing dot -> A-label");
        ok(!sh_canon_domain("\xff.test", 6, d, sizeof(d)), "domain: malformed UTF-8 refused");
    }
    return done_testing();
}
