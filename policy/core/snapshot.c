/* snapshot.c - lifetime of immutable configurations. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "milter_conf.h"
#include "policy_conf.h"
#include "snapshot.h"
#include "strmap.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sh_snapshot *current;

const char *sh_tls_level_name(enum sh_tls_level level)
{
    static const char *const names[] = {
        [SH_TLS_NONE] = "none",       [SH_TLS_MAY] = "may",
        [SH_TLS_ENCRYPT] = "encrypt", [SH_TLS_FINGERPRINT] = "fingerprint",
        [SH_TLS_VERIFY] = "verify",   [SH_TLS_SECURE] = "secure",
    };
    return (unsigned)level < sizeof(names) / sizeof(names[0]) ? names[level] : "?";
}

const struct sh_relay *sh_snapshot_relay(const struct sh_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->nrelays; i++)
        if (strcmp(s->relays[i]->name, name) == 0)
            return s->relays[i];
    return NULL;
}

static void free_secret(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

void sh_snapshot_free(struct sh_snapshot *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->ncreds; i++) {
        struct sh_cred *c = s->creds[i];
        free(c->name);
        free(c->user);
        free_secret(c->password);
        free_secret(c->sasl_answer);
        free(c);
    }
    free(s->creds);
    for (size_t i = 0; i < s->nrelays; i++) {
        struct sh_relay *r = s->relays[i];
        free(r->name);
        free(r->host);
        free(r->tls_answer);
        free(r->failover);
        free(r->nexthop);
        free(r->nexthops);
        free(r);
    }
    free(s->relays);
    for (size_t i = 0; i < s->nrules; i++)
        free(s->rules[i].key);
    free(s->rules);
    for (size_t i = 0; i < s->ntransports; i++) {
        free(s->transports[i].key);
        free(s->transports[i].transport);
    }
    free(s->transports);
    strmap_free(s->rule_index);
    strmap_free(s->transport_index);
    strmap_free(s->tls_index);
    strmap_free(s->sasl_index);
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    free(s->warnings);
    for (size_t i = 0; i < s->nfiles; i++)
        free(s->files[i]);
    free(s->files);
    free(s->implicit_tls_transport);
    free(s->smarthost_transport);
    free(s->path);
    sh_policy_conf_free(s->policy);
    sh_milter_conf_free(s->milter);
    free(s);
}

void sh_snapshot_publish(struct sh_snapshot *s)
{
    struct sh_snapshot *old;

    sh_metrics_bind(s, current);                     /* only this thread writes current */
    __atomic_store_n(&s->refs, 1, __ATOMIC_RELEASE); /* the "current" reference */
    pthread_mutex_lock(&current_lock);
    old = current;
    current = s;
    pthread_mutex_unlock(&current_lock);
    if (old)
        sh_snapshot_release(old);
}

struct sh_snapshot *sh_snapshot_acquire(void)
{
    struct sh_snapshot *s;

    pthread_mutex_lock(&current_lock);
    if ((s = current) != NULL)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&current_lock);
    return s;
}

void sh_snapshot_release(struct sh_snapshot *s)
{
    if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
        sh_snapshot_free(s);
}
