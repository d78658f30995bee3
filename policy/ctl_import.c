#include <stdio.h>
#include "ctl.h"
int ctl_import(struct ctl_ctx *ctx, int argc, char **argv) { (void)ctx, (void)argc, (void)argv; return CTL_USAGE; }
