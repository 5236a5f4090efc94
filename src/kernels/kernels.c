/*
 * kernels.c -- CPU feature detection and the kernel table's assembly.
 */
#include "kernels/kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>

static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect_x86(mono_cpu *cpu) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    cpu->fma = (c >> 12) & 1;
    cpu->f16c = (c >> 29) & 1;
    if (!osxsave || !avx) { cpu->fma = cpu->f16c = 0; return; }
    uint64_t xcr0 = read_xcr0();
    int ymm_ok = (xcr0 & 6) == 6, zmm_ok = (xcr0 & 0xE6) == 0xE6;
    if (!ymm_ok) { cpu->fma = cpu->f16c = 0; return; }
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    cpu->avx2 = (b >> 5) & 1;
    if (zmm_ok) {
        cpu->avx512f = (b >> 16) & 1;
        cpu->avx512bw = (b >> 30) & 1;
        cpu->avx512vl = (b >> 31) & 1;
        cpu->avx512vnni = (c >> 11) & 1;
        __cpuid_count(7, 1, a, b, c, d);
        cpu->avx512bf16 = (a >> 5) & 1;
    }
}
#endif

void mono_cpu_detect(mono_cpu *cpu) {
    memset(cpu, 0, sizeof *cpu);
    /* MONO_ISA caps the ISA: any value other than the names below (e.g.
     * "portable") leaves only the portable kernels. */
    const char *cap = getenv("MONO_ISA");
#if defined(__x86_64__) || defined(_M_X64)
    detect_x86(cpu);
    if (cap && strcmp(cap, "avx512") != 0) {
        cpu->avx512f = cpu->avx512bw = cpu->avx512vl = cpu->avx512vnni = cpu->avx512bf16 = 0;
        if (strcmp(cap, "avx2") != 0) cpu->avx2 = cpu->fma = cpu->f16c = 0;
    }
#elif defined(__aarch64__)
    cpu->neon = 1;
#if defined(__ARM_FEATURE_DOTPROD)
    cpu->dotprod = 1;
#endif
    if (cap && strcmp(cap, "neon") != 0) cpu->neon = cpu->dotprod = 0;
#elif defined(__wasm_simd128__)
    cpu->simd128 = 1;
    if (cap && strcmp(cap, "wasm_simd128") != 0) cpu->simd128 = 0;
#endif
    (void)cap;
}

void mono_kernels_init(mono_kernels *k) {
    memset(k, 0, sizeof *k);
    mono_cpu_detect(&k->cpu);
    k->isa = "portable";
    mono_kernels_register_float_portable(k);
    mono_kernels_register_quant_portable(k);
#if defined(__x86_64__) || defined(_M_X64)
    if (k->cpu.avx2 && k->cpu.fma && k->cpu.f16c) {
        k->isa = "avx2";
        mono_kernels_register_float_avx2(k);
        mono_kernels_register_quant_avx2(k);
    }
    if (k->cpu.avx2 && k->cpu.avx512f && k->cpu.avx512bw && k->cpu.avx512vl) {
        k->isa = "avx512";
        mono_kernels_register_float_avx512(k);
        mono_kernels_register_quant_avx512(k);
    }
#elif defined(__aarch64__)
    if (k->cpu.neon) {
        k->isa = "neon";
        mono_kernels_register_float_neon(k);
        mono_kernels_register_quant_neon(k);
    }
#elif defined(__wasm_simd128__)
    if (k->cpu.simd128) {
        k->isa = "wasm_simd128";
        mono_kernels_register_float_wasm(k);
        if (mono_kernels_register_quant_wasm) mono_kernels_register_quant_wasm(k);
    }
#endif
}
