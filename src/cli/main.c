/*
 * main.c -- the `monologue` command line: dispatches to one subcommand.
 *
 * Each subcommand lives in its own cmd_*.c file and is listed in
 * commands.def; it returns the process exit status and prints its own
 * errors ("monologue <cmd>: <message>") to stderr.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "monologue.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MONO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(MONO_ASAN)
/* The ASan build: a malloc too large to satisfy (a KV cache for -c 16777216)
 * returns NULL, as it does without ASan, so the command reports "out of
 * memory" instead of the sanitizer aborting. Every allocation is checked. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
#define COMMAND(name, fn, help) {name, fn, help},
#include "cli/commands.def"
#undef COMMAND
};

static void usage(FILE *f) {
    fprintf(f, "monologue %s -- a small LLM inference engine\n\nusage: monologue COMMAND [options]\n\ncommands:\n",
            MONO_VERSION_STRING);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun `monologue COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) { printf("monologue %s\n", MONO_VERSION_STRING); return 0; }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "monologue: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
