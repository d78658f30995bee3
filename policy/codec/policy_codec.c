/* policy_codec.c - name=value lines, an empty line ends a request. */
#include <string.h>

#include "policy_codec.h"

static const char *const names[PA_COUNT_] = {
    [PA_REQUEST] = "request",
    [PA_PROTOCOL_STATE] = "protocol_state",
    [PA_QUEUE_ID] = "queue_id",
    [PA_SENDER] = "sender",
    [PA_RECIPIENT] = "recipient",
    [PA_RECIPIENT_COUNT] = "recipient_count",
    [PA_CLIENT_ADDRESS] = "client_address",
    [PA_CLIENT_NAME] = "client_name",
    [PA_SASL_USERNAME] = "sasl_username",
    [PA_ENCRYPTION_PROTOCOL] = "encryption_protocol",
    [PA_SIZE] = "size",
};

const char *policy_attr_name(enum policy_attr a)
{
    return (unsigned)a < PA_COUNT_ ? names[a] : "?";
}

static int lookup(const char *name, size_t len)
{
    for (int i = 0; i < PA_COUNT_; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return i;
    return -1;
}

static enum policy_parse fail(const char **why, const char *text)
{
    *why = text;
    return POLICY_MALFORMED;
}

enum policy_parse policy_parse(const char *buf, size_t len, struct policy_request *req,
                               size_t *consumed, const char **why)
{
    size_t off = 0;

    memset(req, 0, sizeof(*req));
    *consumed = 0;
    *why = "";
    for (;;) {
        size_t avail = len - off, n;
        const char *line = buf + off, *nl, *eq;
        int a;

        if (off >= POLICY_MAX_REQUEST)
            return fail(why, "request too long");
        if (avail > POLICY_MAX_LINE + 2)
            avail = POLICY_MAX_LINE + 2; /* room for "\r\n" after a maximal line */
        if ((nl = memchr(line, '\n', avail)) == NULL) {
            if (avail == POLICY_MAX_LINE + 2)
                return fail(why, "line too long");
            return off + avail >= POLICY_MAX_REQUEST ? fail(why, "request too long")
                                                     : POLICY_NEED_MORE;
        }
        n = (size_t)(nl - line);
        off += n + 1;
        if (off > POLICY_MAX_REQUEST)
            return fail(why, "request too long");
        if (n > 0 && line[n - 1] == '\r') /* tolerate telnet-style CRLF */
            n--;
        if (n > POLICY_MAX_LINE)
            return fail(why, "line too long");
        if (n == 0) {
            if (req->nattrs == 0)
                return fail(why, "empty request");
            *consumed = off;
            return POLICY_OK;
        }
        if (++req->nattrs > POLICY_MAX_ATTRS)
            return fail(why, "too many attributes");
        if ((eq = memchr(line, '=', n)) == NULL)
            return fail(why, "line without '='");
        if (eq == line)
            return fail(why, "empty attribute name");
        if (memchr(line, 0, n) != NULL)
            return fail(why, "NUL byte in attribute");
        if ((a = lookup(line, (size_t)(eq - line))) >= 0) {
            req->attr[a].p = eq + 1; /* the last one wins */
            req->attr[a].len = (size_t)(line + n - eq - 1);
        }
    }
}
