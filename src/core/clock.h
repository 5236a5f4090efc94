/*
 * clock.h -- a monotonic clock for the timings the library reports
 * (load time, prefill/decode tokens per second).
 */
#ifndef MONO_CORE_CLOCK_H
#define MONO_CORE_CLOCK_H

/* Seconds since an arbitrary fixed point; only differences mean anything. */
double mono_clock_seconds(void);

#endif
