/* prometheus.c - write metric families and samples in the Prometheus text format. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "prometheus.h"

static bool name_char(char c, bool first, bool colon)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
        return true;
    if (c == ':')
        return colon;
    return !first && c >= '0' && c <= '9';
}

bool prom_metric_name_valid(const char *name)
{
    if (name == NULL || *name == 0)
        return false;
    for (const char *p = name; *p; p++)
        if (!name_char(*p, p == name, true))
            return false;
    return true;
}

bool prom_label_name_valid(const char *name)
{
    if (name == NULL || *name == 0 || strncmp(name, "__", 2) == 0)
        return false;
    for (const char *p = name; *p; p++)
        if (!name_char(*p, p == name, false))
            return false;
    return true;
}

/* HELP text escapes backslash and newline; label values also the double quote. */
static void escaped(FILE *out, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", out);
        else if (*s == '\n')
            fputs("\\n", out);
        else if (*s == '"' && quote)
            fputs("\\\"", out);
        else
            putc(*s, out);
    }
}

bool prom_family(FILE *out, const char *name, enum prom_type type, const char *help)
{
    static const char *const types[] = {"counter", "gauge", "untyped"};

    if (!prom_metric_name_valid(name) || (unsigned)type > PROM_UNTYPED || help == NULL)
        return false;
    fprintf(out, "# HELP %s ", name);
    escaped(out, help, false);
    fprintf(out, "\n# TYPE %s %s\n", name, types[type]);
    return true;
}

static bool labels_valid(const struct prom_label *labels, size_t n)
{
    if (n > PROM_MAX_LABELS || (n > 0 && labels == NULL))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!prom_label_name_valid(labels[i].name) || labels[i].value == NULL)
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(labels[i].name, labels[j].name) == 0)
                return false;
    }
    return true;
}

static bool sample_head(FILE *out, const char *name, const struct prom_label *labels, size_t n)
{
    if (!prom_metric_name_valid(name) || !labels_valid(labels, n))
        return false;
    fputs(name, out);
    if (n > 0) {
        putc('{', out);
        for (size_t i = 0; i < n; i++) {
            fprintf(out, "%s%s=\"", i ? "," : "", labels[i].name);
            escaped(out, labels[i].value, true);
            putc('"', out);
        }
        putc('}', out);
    }
    return true;
}

bool prom_sample_u64(FILE *out, const char *name, const struct prom_label *labels, size_t nlabels,
                     uint64_t value)
{
    if (!sample_head(out, name, labels, nlabels))
        return false;
    fprintf(out, " %" PRIu64 "\n", value);
    return true;
}

bool prom_sample_double(FILE *out, const char *name, const struct prom_label *labels,
                        size_t nlabels, double value)
{
    if (!sample_head(out, name, labels, nlabels))
        return false;
    if (isnan(value))
        fputs(" NaN\n", out);
    else if (isinf(value))
        fputs(value > 0 ? " +Inf\n" : " -Inf\n", out);
    else
        fprintf(out, " %.17g\n", value);
    return true;
}
