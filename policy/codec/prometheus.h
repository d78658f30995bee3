/* prometheus.h - the Prometheus text exposition format (version 0.0.4), written to a FILE.
 *
 * A pure codec: metric families with # HELP and # TYPE lines, samples with escaped label
 * values. Names are checked, not repaired: a family or sample with an invalid metric or
 * label name is refused (false, nothing written), so the output always parses. The caller
 * writes each family's samples right after its prom_family() call, as the format wants.
 */
#ifndef SH_PROMETHEUS_H
#define SH_PROMETHEUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum prom_type {
    PROM_COUNTER,
    PROM_GAUGE,
    PROM_UNTYPED,
};

struct prom_label {
    const char *name;
    const char *value; /* any bytes but NUL; backslash, quote and newline are escaped */
};

#define PROM_MAX_LABELS 16

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool prom_metric_name_valid(const char *name);
/* [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for Prometheus itself) */
bool prom_label_name_valid(const char *name);

/* "# HELP NAME HELP" (backslash and newline escaped) and "# TYPE NAME TYPE". A counter's
 * NAME should end in "_total" (promtool's lint says so); that is the caller's choice. */
bool prom_family(FILE *out, const char *name, enum prom_type type, const char *help);

/* "NAME{l1="v1",...} VALUE". NLABELS <= PROM_MAX_LABELS, names unique. */
bool prom_sample_u64(FILE *out, const char *name, const struct prom_label *labels, size_t nlabels,
                     uint64_t value);
/* The same for a float: NaN, +Inf and -Inf are written as the format spells them. */
bool prom_sample_double(FILE *out, const char *name, const struct prom_label *labels,
                        size_t nlabels, double value);

#endif
