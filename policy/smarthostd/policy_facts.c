/* policy_facts.c - Postfix policy attributes -> the facts the policy rules judge. */
#include <limits.h>
#include <string.h>

#include "policy_facts.h"

static struct policy_fact fact(const struct policy_request *req, enum policy_attr a)
{
    return (struct policy_fact){.p = req->attr[a].p, .len = req->attr[a].len};
}

/* The size attribute in bytes; false when absent, empty or not decimal. A value
 * past ULONG_MAX saturates: it is still too big. */
static bool attr_size(const struct policy_value *v, unsigned long *out)
{
    unsigned long n = 0;

    if (v->p == NULL || v->len == 0)
        return false;
    for (size_t i = 0; i < v->len; i++) {
        unsigned d = (unsigned)(unsigned char)v->p[i] - '0';
        if (d > 9)
            return false;
        n = n > (ULONG_MAX - d) / 10 ? ULONG_MAX : n * 10 + d;
    }
    *out = n;
    return true;
}

void policy_facts_of(const struct policy_request *req, struct policy_facts *f)
{
    const struct policy_value *tls = &req->attr[PA_ENCRYPTION_PROTOCOL];

    memset(f, 0, sizeof(*f));
    if (policy_attr_is(req, PA_PROTOCOL_STATE, "RCPT"))
        f->state = POLICY_STATE_RCPT;
    else if (policy_attr_is(req, PA_PROTOCOL_STATE, "END-OF-MESSAGE"))
        f->state = POLICY_STATE_EOM;
    else if (policy_attr_is(req, PA_PROTOCOL_STATE, "MAIL"))
        f->state = POLICY_STATE_MAIL;
    f->queue_id = fact(req, PA_QUEUE_ID);
    f->client_address = fact(req, PA_CLIENT_ADDRESS);
    f->sasl_username = fact(req, PA_SASL_USERNAME);
    f->sender = fact(req, PA_SENDER);
    f->recipient = fact(req, PA_RECIPIENT);
    f->tls = tls->p != NULL && tls->len > 0;
    f->has_size = attr_size(&req->attr[PA_SIZE], &f->size);
}
