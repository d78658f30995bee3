/* fuzz_milter_plan.c - fuzz target for the milter's header plan: the first line is the
 * envelope sender, each further line one header "Name: value" (a line starting with
 * white space continues the previous value); the plan is built from a config with every
 * kind of edit (FUZZ_MILTER_CONFIG, its header_checks file next to it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_util.h"
#include "headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct sh_snapshot *snap;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char text[8192], *at;
    struct sh_error err;
    FILE *f = fopen(FUZZ_MILTER_CONFIG, "r");
    size_t n;

    (void)argc, (void)argv;
    if (f == NULL)
        abort();
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    if ((at = strstr(text, "@HEADER_CHECKS@")) == NULL)
        abort();
    { /* the placeholder becomes the header_checks file's path */
        char out[sizeof(text) + 256];
        snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, FUZZ_HEADER_CHECKS,
                 at + strlen("@HEADER_CHECKS@"));
        if ((snap = sh_config_load(fuzz_write("milter.conf", out, strlen(out)), &err)) == NULL) {
            fprintf(stderr, "%s\n", err.text);
            abort();
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *save = NULL, *line, *sender;
    struct sh_msg m;
    struct sh_plan p = {0};
    struct sh_msg_env env = {.now = 1700000000, .unique = "Q1.fuzz", .hostname = "h.example"};
    char name[256] = "", value[4096] = "";

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    sh_msg_init(&m);
    sender = strtok_r(text, "\n", &save);
    env.sender = sender ? sender : "";
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *colon = strchr(line, ':');
        if ((line[0] == ' ' || line[0] == '\t') && name[0]) { /* folded value */
            size_t l = strlen(value);
            snprintf(value + l, sizeof(value) - l, "\n%s", line);
            continue;
        }
        if (name[0])
            sh_msg_add(&m, name, value);
        name[0] = value[0] = 0;
        if (colon == NULL)
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)(colon - line), line);
        snprintf(value, sizeof(value), "%s", colon[1] == ' ' ? colon + 2 : colon + 1);
    }
    if (name[0])
        sh_msg_add(&m, name, value);
    fuzz_quiet();
    (void)sh_plan_build(snap, &m, &env, &p);
    fuzz_loud();
    for (size_t i = 0; i < p.n; i++)
        if (p.e[i].kind != SH_EDIT_CHGFROM && (p.e[i].name == NULL || p.e[i].name[0] == 0))
            abort(); /* every header edit names its header */
    sh_plan_free(&p);
    sh_msg_reset(&m);
    free(text);
    return 0;
}
