/*
 * quant_avx512.c -- AVX-512 kernels for the quantized types. With VNNI every
 * u8 x i8 dot product of quant_x86_dot.h is one vpdpbusd; the init code only
 * registers this file when the CPU has AVX512-VNNI (kernels.c registers
 * avx512 on F/BW/VL, so the check is here).
 */
#define MONO_QX_VNNI 1
#include "kernels/quant_x86_dot.h"
#include "kernels/quant_x86_gemm.h"

void mono_kernels_register_quant_avx512(mono_kernels *k) {
    if (!k->cpu.avx512vnni) return; /* the AVX2 versions registered before stay */
    qx_register(k);
}
