/* policy_facts.h - Postfix policy attributes -> the facts the policy rules judge. */
#ifndef SH_POLICY_FACTS_H
#define SH_POLICY_FACTS_H

#include "policy_codec.h"
#include "policy_rules.h"

/* Fill F from REQ; values point into REQ's buffer. */
void policy_facts_of(const struct policy_request *req, struct policy_facts *f);

#endif
