/* senderset.h - one set of sender (or domain) patterns and its matcher, for every rule that names
 * senders.
 *
 * Sender patterns are the routing rules' syntax: user@domain, @domain,
 * @.domain (strict subdomains) and, where a rule allows it, <> for the null
 * sender. A sender matches through sh_sender_walk(), most specific first, as
 * the resolver does. Domain sets ("domain", ".domain") serve local_domains.
 */
#ifndef SH_SENDERSET_H
#define SH_SENDERSET_H

#include <stdbool.h>
#include <stddef.h>
#include <libconfig.h>

#include "config.h"

struct strmap;

struct sh_sender_item {
    struct sh_origin origin;
    unsigned long value; /* a number the rule attaches (max_size: bytes); 0 otherwise */
    char key[];          /* normalized pattern, as matched */
};

struct sh_sender_set {
    struct strmap *map; /* key -> struct sh_sender_item */
    struct sh_sender_item **items;
    size_t n;
};

/* What a loaded list may hold. */
enum sh_set_kind {
    SH_SET_SENDERS,         /* user@domain, @domain, @.domain */
    SH_SET_SENDERS_OR_NULL, /* ... and <> */
    SH_SET_DOMAINS,         /* domain, .domain */
};

#define SH_SET_MAX_PATTERNS 100000

/* The most specific item of SET matching the normalized sender KEY
 * (sh_sender_key(), not the null sender), or NULL. */
const struct sh_sender_item *sh_sender_set_match(const struct sh_sender_set *set, const char *key,
                                                 const char *delims);

/* Is the envelope SENDER (as given at MAIL, brackets or not) in SET? An empty
 * set holds every sender; an unparsable sender is in no other set. */
bool sh_sender_set_has(const struct sh_sender_set *set, const char *sender, const char *delims);

/* Is the lowercase domain DOM in the domain set SET ("d" matches itself,
 * ".d" its strict subdomains)? */
bool sh_domain_set_has(const struct sh_sender_set *set, const char *dom);

/* Add the patterns of the setting NAME in GROUP (a string or a list) to SET.
 * Absent is fine unless REQUIRED; an empty list is refused when REQUIRED.
 * false with err->text = "FILE:LINE: ..." */
bool sh_sender_set_load(struct sh_snapshot *s, const config_setting_t *group, const char *name,
                        bool required, enum sh_set_kind kind, struct sh_sender_set *set,
                        struct sh_error *err);

/* Add one pattern with its origin, as the loader does (for `domain = "d"` style shorthands). */
bool sh_sender_set_add(struct sh_snapshot *s, const config_setting_t *st, const char *value,
                       enum sh_set_kind kind, struct sh_sender_set *set, struct sh_error *err);

void sh_sender_set_free(struct sh_sender_set *set);

#endif
