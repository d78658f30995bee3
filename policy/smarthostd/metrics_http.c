/* metrics_http.c - the --metrics listener: GET /metrics over HTTP/1.x, Prometheus text.
 *
 * One request per connection, answered and closed (Connection: close): GET /metrics
 * gets 200 and the counters (core/metrics.h, the same text as `stats prometheus`);
 * another target 404, another method 405, anything unparsable 400, a head over
 * HTTP_MAX_HEAD 431. The server bounds the connections, the head's bytes and the
 * time from its first byte to its last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_req.h"
#include "metrics.h"
#include "metrics_http.h"
#include "msg.h"
#include "snapshot.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static struct msg_rate bad_rate = MSG_RATE_INIT;

static bool respond(struct sh_conn *c, int minor, const char *status, const char *extra,
                    const char *body, size_t blen)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.%d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     minor, status, body == NULL ? "text/plain; charset=utf-8" : CONTENT_TYPE,
                     body ? blen : strlen(status) + 1, extra);

    if (n < 0 || (size_t)n >= sizeof(head) || !sh_conn_send(c, head, (size_t)n))
        return false;
    if (body)
        return sh_conn_send(c, body, blen);
    return sh_conn_send(c, status, strlen(status)) && sh_conn_send(c, "\n", 1);
}

static ssize_t on_input(struct sh_conn *c, const char *buf, size_t len, void *wake)
{
    const struct sh_snapshot *s = wake;
    struct http_request r;
    size_t used = 0, blen = 0;
    char *body = NULL;
    FILE *fp;
    bool ok;

    switch (http_parse_request(buf, len, &r, &used)) {
    case HTTP_NEED_MORE:
        return SH_INPUT_NEED_MORE;
    case HTTP_TOO_LONG:
        msg_warn_rate(&bad_rate, "metrics: %s: request head too long; disconnecting",
                      sh_conn_peer(c));
        respond(c, 0, "431 Request Header Fields Too Large", "", NULL, 0);
        return SH_INPUT_CLOSE;
    case HTTP_MALFORMED:
        msg_warn_rate(&bad_rate, "metrics: %s: malformed request; disconnecting", sh_conn_peer(c));
        respond(c, 0, "400 Bad Request", "", NULL, 0);
        return SH_INPUT_CLOSE;
    case HTTP_OK:
        break;
    }
    if (strcmp(r.method, "GET") != 0)
        return respond(c, r.minor, "405 Method Not Allowed", "Allow: GET\r\n", NULL, 0)
                   ? SH_INPUT_DONE
                   : SH_INPUT_CLOSE;
    if (strcmp(r.target, "/metrics") != 0)
        return respond(c, r.minor, "404 Not Found", "", NULL, 0) ? SH_INPUT_DONE : SH_INPUT_CLOSE;
    if ((fp = open_memstream(&body, &blen)) == NULL)
        return SH_INPUT_CLOSE;
    ok = sh_metrics_prometheus(fp, "smarthostd_", s);
    ok = fclose(fp) == 0 && ok;
    ok = ok && respond(c, r.minor, "200 OK", "", body, blen);
    free(body);
    return ok ? SH_INPUT_DONE : SH_INPUT_CLOSE;
}

const struct sh_proto sh_metrics_http_proto = {
    .name = "metrics",
    .max_input = HTTP_MAX_HEAD,
    .max_reply = 4 * 1024 * 1024,
    .idle_timeout = 10,
    .on_input = on_input,
};
