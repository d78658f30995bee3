/* maillog.c - parse one Postfix log line into time stamp, program, queue id and fields. */
#include <string.h>

#include "maillog.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char printable(char c)
{
    return c >= 0x20 && c < 0x7f ? c : '?';
}

/* Copy N bytes as printable ASCII, cut to CAP - 1; a cut sets MAILLOG_TRUNCATED. */
static void copy_field(char *dst, size_t cap, const char *src, size_t n, unsigned *fields)
{
    if (n >= cap) {
        n = cap - 1;
        *fields |= MAILLOG_TRUNCATED;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = printable(src[i]);
    dst[n] = 0;
}

/* N decimal digits at *P (advanced) into *OUT. */
static bool digits(const char **p, const char *end, int n, int *out)
{
    int v = 0;

    if (end - *p < n)
        return false;
    for (int i = 0; i < n; i++) {
        if (!is_digit((*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool lit(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return false;
    (*p)++;
    return true;
}

/* ".123456" after the seconds: dropped, at most 9 digits. */
static void skip_fraction(const char **p, const char *end)
{
    if (*p < end && **p == '.') {
        const char *q = *p + 1;
        while (q < end && is_digit(*q) && q - *p <= 9)
            q++;
        if (q > *p + 1)
            *p = q;
    }
}

static bool hms(const char **p, const char *end, struct maillog_stamp *st)
{
    return digits(p, end, 2, &st->hour) && lit(p, end, ':') && digits(p, end, 2, &st->min) &&
           lit(p, end, ':') && digits(p, end, 2, &st->sec) && st->hour < 24 && st->min < 60 &&
           st->sec <= 60;
}

/* "Nov 30 19:20:10" (day space-padded: "Nov  3"). */
static bool stamp_traditional(const char **p, const char *end, struct maillog_stamp *st)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *q = *p;

    if (end - q < 15)
        return false;
    st->mon = 0;
    for (int m = 0; m < 12; m++)
        if (memcmp(q, months + 3 * m, 3) == 0)
            st->mon = m + 1;
    if (st->mon == 0 || q[3] != ' ')
        return false;
    q += 4;
    if (*q == ' ') {
        q++;
        if (!digits(&q, end, 1, &st->mday))
            return false;
    } else if (!digits(&q, end, 2, &st->mday)) {
        return false;
    }
    if (st->mday < 1 || st->mday > 31 || !lit(&q, end, ' ') || !hms(&q, end, st))
        return false;
    skip_fraction(&q, end);
    st->year = 0;
    st->has_offset = false;
    *p = q;
    return true;
}

/* "2026-11-30T19:20:10.123456+00:00", "...Z", or journalctl's "...+0000". */
static bool stamp_rfc3339(const char **p, const char *end, struct maillog_stamp *st)
{
    const char *q = *p;
    int oh, om, sign;

    if (!digits(&q, end, 4, &st->year) || !lit(&q, end, '-') || !digits(&q, end, 2, &st->mon) ||
        !lit(&q, end, '-') || !digits(&q, end, 2, &st->mday) || !lit(&q, end, 'T') ||
        !hms(&q, end, st) || st->year < 1970 || st->mon < 1 || st->mon > 12 || st->mday < 1 ||
        st->mday > 31)
        return false;
    skip_fraction(&q, end);
    st->has_offset = true;
    if (lit(&q, end, 'Z')) {
        st->offset = 0;
    } else {
        if (q >= end || (*q != '+' && *q != '-'))
            return false;
        sign = *q++ == '-' ? -1 : 1;
        if (!digits(&q, end, 2, &oh))
            return false;
        lit(&q, end, ':');
        if (!digits(&q, end, 2, &om) || oh > 23 || om > 59)
            return false;
        st->offset = sign * (oh * 3600 + om * 60);
    }
    *p = q;
    return true;
}

/* A Postfix queue id: short (hex, uppercase) or long (no vowels, a 'z' between the time
 * and the inode part). Words like "warning" or "NOQUEUE" are neither. */
static bool queue_id(const char *s, size_t n)
{
    bool hex = true, vowel = false, has_z = false;

    if (n < 5 || n > MAILLOG_MAX_QID)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(s[i]))
            return false;
        if (!is_digit(s[i]) && !(s[i] >= 'A' && s[i] <= 'F'))
            hex = false;
        if (strchr("AEIOUaeiou", s[i]))
            vowel = true;
        if (s[i] == 'z')
            has_z = true;
    }
    return hex || (!vowel && has_z && n >= 10);
}

/* A value at P: "<address>" up to its closing '>', otherwise up to ", " or " (" or the end. */
static size_t value_len(const char *p, const char *end)
{
    const char *q = p;

    if (q < end && *q == '<') {
        for (q++; q < end; q++)
            if (*q == '>' && (q + 1 == end || q[1] == ',' || q[1] == ' '))
                return (size_t)(q + 1 - p);
        return (size_t)(end - p);
    }
    while (q < end && !(*q == ',' && q + 1 < end && q[1] == ' ') &&
           !(*q == ' ' && q + 1 < end && q[1] == '('))
        q++;
    return (size_t)(q - p);
}

static void address(char *dst, const char *v, size_t n, unsigned *fields)
{
    if (n >= 2 && v[0] == '<' && v[n - 1] == '>')
        v++, n -= 2;
    copy_field(dst, MAILLOG_MAX_ADDR + 1, v, n, fields);
}

/* "name=value, name=value, ... status=word (reason)". Unknown names are skipped. */
static void fields(const char *p, const char *end, struct maillog_rec *r)
{
    while (p < end) {
        const char *name = p, *v;
        size_t nlen, vlen;

        while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '_'))
            p++;
        nlen = (size_t)(p - name);
        if (nlen == 0 || p >= end || *p != '=')
            return;
        v = ++p;
        vlen = value_len(v, end);
        p = v + vlen;
        if (nlen == 4 && memcmp(name, "from", 4) == 0) {
            r->fields |= MAILLOG_FROM;
            address(r->from, v, vlen, &r->fields);
        } else if (nlen == 2 && memcmp(name, "to", 2) == 0) {
            r->fields |= MAILLOG_TO;
            address(r->to, v, vlen, &r->fields);
        } else if (nlen == 5 && memcmp(name, "relay", 5) == 0) {
            r->fields |= MAILLOG_RELAY;
            copy_field(r->relay, sizeof(r->relay), v, vlen, &r->fields);
        } else if (nlen == 3 && memcmp(name, "dsn", 3) == 0) {
            r->fields |= MAILLOG_DSN;
            copy_field(r->dsn, sizeof(r->dsn), v, vlen, &r->fields);
        } else if (nlen == 6 && memcmp(name, "status", 6) == 0) {
            r->fields |= MAILLOG_STATUS;
            copy_field(r->status, sizeof(r->status), v, vlen, &r->fields);
            if (end - p >= 2 && p[0] == ' ' && p[1] == '(') {
                /* Up to the last ')': the reason may hold parentheses itself. Without
                 * one, the rest of the line. */
                size_t n = (size_t)(end - p - 2);
                p += 2;
                while (n > 0 && p[n - 1] != ')')
                    n--;
                n = n > 0 ? n - 1 : (size_t)(end - p);
                r->fields |= MAILLOG_REASON;
                copy_field(r->reason, sizeof(r->reason), p, n, &r->fields);
            }
            return; /* nothing after the status is name=value */
        }
        if (end - p >= 2 && p[0] == ',' && p[1] == ' ')
            p += 2;
        else
            return;
    }
}

bool maillog_parse(const char *line, size_t len, struct maillog_rec *r)
{
    const char *p = line, *end = line + len, *s;

    memset(r, 0, sizeof(*r));
    if (!stamp_traditional(&p, end, &r->stamp) && !stamp_rfc3339(&p, end, &r->stamp))
        return false;
    if (!lit(&p, end, ' '))
        return false;
    for (s = p; p < end && *p != ' '; p++)
        ;
    if (p == s || p - s > MAILLOG_MAX_HOST || !lit(&p, end, ' '))
        return false;
    copy_field(r->host, sizeof(r->host), s, (size_t)(p - s - 1), &r->fields);
    for (s = p; p < end && *p != '[' && *p != ':' && *p != ' '; p++)
        ;
    if (p == s || p - s > MAILLOG_MAX_PROGRAM)
        return false;
    copy_field(r->program, sizeof(r->program), s, (size_t)(p - s), &r->fields);
    if (lit(&p, end, '[')) {
        const char *pid = p;
        while (p < end && is_digit(*p) && p - pid < 10)
            p++;
        if (p == pid || !lit(&p, end, ']'))
            return false;
    }
    if (!lit(&p, end, ':') || !lit(&p, end, ' '))
        return false;
    for (s = p; p < end && is_alnum(*p); p++)
        ;
    if (end - p >= 2 && p[0] == ':' && p[1] == ' ' && queue_id(s, (size_t)(p - s))) {
        copy_field(r->queue_id, sizeof(r->queue_id), s, (size_t)(p - s), &r->fields);
        fields(p + 2, end, r);
        if (end - (p + 2) == 7 && memcmp(p + 2, "removed", 7) == 0)
            r->fields |= MAILLOG_REMOVED;
    }
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool maillog_time(const struct maillog_stamp *st, time_t now, time_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct tm tm = {0}, nowtm;
    int year = st->year;

    if (st->mon < 1 || st->mon > 12 || st->mday < 1 || st->mday > mdays[st->mon - 1])
        return false;
    if (year == 0) {
        if (localtime_r(&now, &nowtm) == NULL)
            return false;
        year = nowtm.tm_year + 1900;
    }
    for (int attempt = 0; attempt < 2; attempt++, year--) {
        if (st->mon == 2 && st->mday == 29 && !leap(year))
            continue;
        tm.tm_year = year - 1900;
        tm.tm_mon = st->mon - 1;
        tm.tm_mday = st->mday;
        tm.tm_hour = st->hour;
        tm.tm_min = st->min;
        tm.tm_sec = st->sec;
        tm.tm_isdst = -1;
        if (st->has_offset) {
            *out = timegm(&tm) - st->offset;
            return true;
        }
        *out = mktime(&tm);
        if (st->year != 0 || *out <= now + 86400)
            return *out != (time_t)-1;
    }
    return false;
}

bool maillog_relay_split(const char *relay, char *host, char *addr, unsigned *port)
{
    const char *open = strchr(relay, '['), *close;
    size_t hlen, alen;

    if (open == NULL || (close = strchr(open, ']')) == NULL)
        return false;
    hlen = (size_t)(open - relay);
    alen = (size_t)(close - open - 1);
    if (hlen == 0 || hlen > MAILLOG_MAX_RELAY || alen > MAILLOG_MAX_RELAY)
        return false;
    *port = 0;
    if (close[1] == ':') {
        const char *d = close + 2;
        unsigned v = 0;
        if (!is_digit(*d))
            return false;
        for (; is_digit(*d); d++)
            if ((v = v * 10 + (unsigned)(*d - '0')) > 65535)
                return false;
        if (*d)
            return false;
        *port = v;
    } else if (close[1]) {
        return false;
    }
    memcpy(host, relay, hlen);
    host[hlen] = 0;
    memcpy(addr, open + 1, alen);
    addr[alen] = 0;
    return true;
}

bool maillog_reason_peer(const char *reason, char *out)
{
    const char *p = strstr(reason, "connect to "), *s, *close;
    size_t n;

    if (p == NULL)
        return false;
    s = p + strlen("connect to ");
    if ((close = strchr(s, ']')) == NULL || close[1] != ':')
        return false;
    p = close + 2;
    while (is_digit(*p))
        p++;
    if (p == close + 2 || *p != ':')
        return false;
    n = (size_t)(p - s);
    if (n > MAILLOG_MAX_RELAY || memchr(s, ' ', n) != NULL || memchr(s, '[', n) == NULL)
        return false;
    memcpy(out, s, n);
    out[n] = 0;
    return true;
}

/* One token's core (punctuation around it stripped) -> its class, or NULL to keep it. */
static const char *token_class(const char *t, size_t n)
{
    bool letters = false, num = false, numeric = true;

    if (memchr(t, '@', n) || (n >= 2 && t[0] == '<' && t[n - 1] == '>'))
        return "<ADDR>";
    if (memchr(t, '[', n) && memchr(t, ']', n))
        return "HOST";
    if (n == 3 && strchr("245", t[0]) && is_digit(t[1]) && is_digit(t[2]))
        return NULL; /* SMTP reply code */
    if (n >= 5 && n <= 9 && strchr("245", t[0]) && t[1] == '.') {
        size_t dots = 0, i;
        for (i = 2; i < n && (is_digit(t[i]) || (t[i] == '.' && dots++ == 0)); i++)
            ;
        if (i == n && dots == 1 && t[n - 1] != '.' && t[2] != '.')
            return NULL; /* enhanced status code */
    }
    for (size_t i = 0; i < n; i++) {
        if (is_digit(t[i]))
            num = true;
        else if (is_alnum(t[i]))
            letters = true;
        if (!is_digit(t[i]) && !strchr(".:/,-", t[i]))
            numeric = false;
    }
    if (num && numeric)
        return "N";
    if (num && letters && n >= 6) {
        size_t i = 0;
        while (i < n && is_alnum(t[i]))
            i++;
        if (i == n)
            return "ID";
    }
    return num ? "" : NULL; /* "": letters and digits mixed in a word, digits become N */
}

static void put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
    while (n-- > 0 && *o + 1 < cap)
        out[(*o)++] = *s++;
}

void maillog_reason_normalize(const char *reason, char *out, size_t cap)
{
    const char *p = reason;
    size_t o = 0;

    while (*p) {
        const char *t, *core, *core_end, *tend;
        const char *cls;

        while (*p && (*p == ' ' || printable(*p) != *p))
            p++;
        if (!*p)
            break;
        for (t = p; *p && *p != ' ' && printable(*p) == *p; p++)
            ;
        tend = p;
        for (core = t; core < tend && strchr("(\"'", *core); core++)
            ;
        for (core_end = tend; core_end > core && strchr("),;:.'\"", core_end[-1]); core_end--)
            ;
        if (o > 0)
            put(out, cap, &o, " ", 1);
        put(out, cap, &o, t, (size_t)(core - t));
        cls = core < core_end ? token_class(core, (size_t)(core_end - core)) : NULL;
        if (cls == NULL) {
            put(out, cap, &o, core, (size_t)(core_end - core));
        } else if (*cls) {
            put(out, cap, &o, cls, strlen(cls));
        } else {
            for (const char *c = core; c < core_end;) {
                if (is_digit(*c)) {
                    while (c < core_end && is_digit(*c))
                        c++;
                    put(out, cap, &o, "N", 1);
                } else {
                    put(out, cap, &o, c++, 1);
                }
            }
        }
        put(out, cap, &o, core_end, (size_t)(tend - core_end));
    }
    out[o] = 0;
}
