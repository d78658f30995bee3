/* metrics_http.h - the --metrics listener: GET /metrics over HTTP/1.x, Prometheus text. */
#ifndef SH_METRICS_HTTP_H
#define SH_METRICS_HTTP_H

#include "server.h"

/* One request per connection, closed after the reply; its wake value is the pinned
 * struct sh_snapshot * (rule hits), as for the other listeners. */
extern const struct sh_proto sh_metrics_http_proto;

#endif
