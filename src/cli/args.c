/*
 * args.c -- strict flag parsing shared by the subcommands: numbers in a
 * range, flag values, the KV cache type, and the sampling flags of `run`
 * and `chat` (one table, so both take the same names, ranges and messages).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "runtime/sampler.h"

int cli_parse_int(const char *cmd, const char *flag, const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "monologue %s: bad value for %s: '%s' (expected an integer in [%lld, %lld])\n",
                cmd, flag, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_float(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "monologue %s: bad value for %s: '%s' (expected a number in [%g, %g])\n",
                cmd, flag, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

const char *cli_flag_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "monologue %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_parse_kv(const char *cmd, const char *s, int *kv) {
    if (!strcmp(s, "f32")) *kv = MONO_KV_F32;
    else if (!strcmp(s, "f16")) *kv = MONO_KV_F16;
    else {
        fprintf(stderr, "monologue %s: bad value for --kv: '%s' (expected f32 or f16)\n", cmd, s);
        return 0;
    }
    return 1;
}

/* ---- sampling flags ---------------------------------------------------- */

typedef struct sampling_flag {
    const char *name;
    unsigned bit;           /* MONO_SP_*: the field it sets */
    unsigned needs;         /* CLI_SAMPLING_* the subcommand must accept, or 0 */
    int is_int;
    double lo, hi;          /* range of a number */
    long long ilo, ihi;     /* range of an integer */
} sampling_flag;

static const sampling_flag sampling_flags[] = {
    {.name = "--temp", .bit = MONO_SP_TEMPERATURE, .lo = 0, .hi = 100},
    {.name = "--top-k", .bit = MONO_SP_TOP_K, .is_int = 1, .ilo = 0, .ihi = 1 << 24},
    {.name = "--top-p", .bit = MONO_SP_TOP_P, .lo = 0 /* cli_sampling.top_p_min */, .hi = 1},
    {.name = "--min-p", .bit = MONO_SP_MIN_P, .lo = 0, .hi = 1},
    {.name = "--repeat-penalty", .bit = MONO_SP_REPETITION_PENALTY, .lo = 1e-3, .hi = 100},
    {.name = "--presence-penalty", .bit = MONO_SP_PRESENCE_PENALTY, .needs = CLI_SAMPLING_OPENAI_PENALTIES,
     .lo = -100, .hi = 100},
    {.name = "--frequency-penalty", .bit = MONO_SP_FREQUENCY_PENALTY, .needs = CLI_SAMPLING_OPENAI_PENALTIES,
     .lo = -100, .hi = 100},
    {.name = "--seed", .bit = MONO_SP_SEED, .is_int = 1, .ilo = 0, .ihi = INT64_MAX},
};

void cli_sampling_init(cli_sampling *s, const char *cmd, unsigned accept, double top_p_min) {
    memset(s, 0, sizeof *s);
    s->cmd = cmd;
    s->accept = accept;
    s->top_p_min = top_p_min;
    s->values = mono_sampler_params_default();
}

/* Stores a parsed value in the field the flag names. */
static void sampling_store(mono_sampler_params *p, unsigned bit, double d, long long ll) {
    switch (bit) {
    case MONO_SP_TEMPERATURE: p->temperature = (float)d; break;
    case MONO_SP_TOP_K: p->top_k = (int)ll; break;
    case MONO_SP_TOP_P: p->top_p = (float)d; break;
    case MONO_SP_MIN_P: p->min_p = (float)d; break;
    case MONO_SP_REPETITION_PENALTY: p->repetition_penalty = (float)d; break;
    case MONO_SP_PRESENCE_PENALTY: p->presence_penalty = (float)d; break;
    case MONO_SP_FREQUENCY_PENALTY: p->frequency_penalty = (float)d; break;
    case MONO_SP_SEED: p->seed = (uint64_t)ll; break;
    }
}

int cli_sampling_parse(cli_sampling *s, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    for (size_t k = 0; k < sizeof sampling_flags / sizeof *sampling_flags; k++) {
        const sampling_flag *f = &sampling_flags[k];
        if (strcmp(a, f->name) || (f->needs & ~s->accept)) continue;
        const char *v = cli_flag_value(s->cmd, argc, argv, i);
        double d = 0;
        long long ll = 0;
        if (!v) return -1;
        if (f->is_int ? !cli_parse_int(s->cmd, a, v, f->ilo, f->ihi, &ll)
                      : !cli_parse_float(s->cmd, a, v, f->bit == MONO_SP_TOP_P ? s->top_p_min : f->lo, f->hi, &d))
            return -1;
        sampling_store(&s->values, f->bit, d, ll);
        s->set |= f->bit;
        return 1;
    }
    return 0;
}

mono_sampler_params cli_sampling_params(const cli_sampling *s, const mono_model *model) {
    mono_sampler_params sp = mono_sampler_params_from_model(model);
    const mono_sampler_params *v = &s->values;
    if (s->set & MONO_SP_TEMPERATURE) sp.temperature = v->temperature;
    if (s->set & MONO_SP_TOP_K) sp.top_k = v->top_k;
    if (s->set & MONO_SP_TOP_P) sp.top_p = v->top_p;
    if (s->set & MONO_SP_MIN_P) sp.min_p = v->min_p;
    if (s->set & MONO_SP_REPETITION_PENALTY) sp.repetition_penalty = v->repetition_penalty;
    if (s->set & MONO_SP_PRESENCE_PENALTY) sp.presence_penalty = v->presence_penalty;
    if (s->set & MONO_SP_FREQUENCY_PENALTY) sp.frequency_penalty = v->frequency_penalty;
    sp.seed = (s->set & MONO_SP_SEED) ? v->seed : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    return sp;
}
