/*
 * cmd_version.c -- `monologue version`: prints the version and the CPU
 * features the kernels will use.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "monologue.h"

int cmd_version(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("monologue %s\n", MONO_VERSION_STRING);
    return 0;
}
