/* Prints this machine's TSC rate in kHz, measured against CLOCK_MONOTONIC
 * over 200 ms.  tools/kernel-vm passes it to a TCG guest as tsc_early_khz:
 * QEMU's TCG hands the guest the host's TSC, and without ACPI (no HPET, no
 * PM timer) the guest cannot calibrate it, so it would fall back to a
 * jiffies clock with 4 ms steps. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void)
{
	const struct timespec pause = { 0, 200000000 };
	double t0 = seconds();
	uint64_t c0 = __rdtsc();

	nanosleep(&pause, NULL);
	double t1 = seconds();
	uint64_t c1 = __rdtsc();

	if (t1 <= t0 || c1 <= c0)
		return 1;
	printf("%.0f\n", (double)(c1 - c0) / (t1 - t0) / 1000.0);
	return 0;
}
