/* hash.h - the one string hash for tables keyed by what a peer or a log chooses.
 *
 * FNV-1a over the bytes, started from a per-process random basis (Postfix
 * util/hash_fnv.c seeds its FNV the same way, to thwart collision attacks),
 * then a final avalanche so that the low bits a table masks for its bucket
 * depend on every bit of the state: without it the low K bits of FNV depend
 * only on the low K bits of the basis and of each input byte. An attacker who
 * cannot learn the seed cannot precompute keys that share a bucket, and
 * every start of the daemon draws a new seed.
 */
#ifndef SH_HASH_H
#define SH_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The hash of LEN bytes at P under this process's seed. */
uint64_t sh_hash(const void *p, size_t len);

/* The seed, drawn once per process from getrandom(2) (the kernel's CSPRNG); when
 * getrandom fails, from the clocks, the pid and an address, with a warning. */
uint64_t sh_hash_seed(void);

#endif
