/* fuzz_reload_status.c - fuzz target for the reload-status file smarthostctl reads
 * (PIDFILE.status): the input is the file's content. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "reload_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sh_reload_status st;
    char pidfile[128];

    fuzz_write("daemon.pid.status", data, size);
    snprintf(pidfile, sizeof(pidfile), "%s/daemon.pid", fuzz_tmpdir());
    if (sh_reload_status_read(pidfile, &st) && (st.pid <= 0 || st.generation == 0))
        abort(); /* accepted only when complete */
    if (memchr(st.error, 0, sizeof(st.error)) == NULL)
        abort();
    return 0;
}
