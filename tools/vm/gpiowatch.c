/* In the kernel-vm guest (/usr/bin/gpiowatch): what the kernel says about
 * some lines of a gpio-sim chip, logged on every change, as an observer
 * outside rig sees it.
 *
 *   gpiowatch PERIOD_MS /dev/gpiochipN SIMDIR NAME...
 *
 * Every PERIOD_MS (on CLOCK_MONOTONIC) it asks the chip for each named
 * line's state (GPIO_GET_LINEINFO_IOCTL: requested or free, input or
 * output, the consumer's name; no request of its own, so it takes nothing
 * from rig) and reads the level the outside world sees on it (gpio-sim's
 * SIMDIR/sim_gpioN/value: what a consumer drives on an output, else the
 * pull). It prints the first state of each line, then "# watching", then a
 * line per change until SIGTERM or SIGINT:
 *
 *   T_NS PREV_NS NAME held|free in|out LEVEL CONSUMER
 *
 * The change happened after PREV_NS (the previous look) and by T_NS (this
 * one), on the clock of the kernel's edge timestamps and of rig's run time
 * (run_start's t0_monotonic_ns).  The kernel here has no tracepoints
 * (docs/kernel-vm.md says why): this poll stands in for them. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define LINES_MAX 16

struct line {
	const char *name;
	unsigned offset;
	int value_fd;
	char state[96];         /* "held out 1 pumprig": the last one printed */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* The line's state now, as text; -1 when the kernel would not say. */
static int look(int chip, struct line *l, char *buf, size_t size)
{
	struct gpioline_info info = { .line_offset = l->offset };
	char v[8] = "";
	ssize_t n;

	if (ioctl(chip, GPIO_GET_LINEINFO_IOCTL, &info) < 0)
		return -1;
	n = pread(l->value_fd, v, sizeof(v) - 1, 0);
	if (n <= 0)
		return -1;
	v[strcspn(v, "\n")] = '\0';
	snprintf(buf, size, "%s %s %s %s", (info.flags & GPIOLINE_FLAG_KERNEL) ? "held" : "free",
		 (info.flags & GPIOLINE_FLAG_IS_OUT) ? "out" : "in", v,
		 info.consumer[0] ? info.consumer : "-");
	return 0;
}

int main(int argc, char **argv)
{
	static struct line lines[LINES_MAX];
	struct gpiochip_info ci;
	struct timespec next, t;
	long long prev;
	int chip, n = argc - 4;
	long period_ms;
	char *end;

	if (argc < 5 || n > LINES_MAX) {
		fprintf(stderr, "usage: gpiowatch PERIOD_MS /dev/gpiochipN SIMDIR NAME... (at most %d)\n",
			LINES_MAX);
		return 2;
	}
	period_ms = strtol(argv[1], &end, 10);
	if (*end || period_ms < 1 || period_ms > 1000) {
		fprintf(stderr, "gpiowatch: PERIOD_MS is 1 to 1000, not '%s'\n", argv[1]);
		return 2;
	}
	chip = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (chip < 0 || ioctl(chip, GPIO_GET_CHIPINFO_IOCTL, &ci) < 0) {
		perror(argv[2]);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char path[512];
		unsigned off;

		lines[i].name = argv[4 + i];
		for (off = 0; off < ci.lines; off++) {
			struct gpioline_info info = { .line_offset = off };

			if (ioctl(chip, GPIO_GET_LINEINFO_IOCTL, &info) == 0 &&
			    strcmp(info.name, lines[i].name) == 0)
				break;
		}
		if (off == ci.lines) {
			fprintf(stderr, "gpiowatch: %s has no line named %s\n", argv[2], lines[i].name);
			return 1;
		}
		lines[i].offset = off;
		snprintf(path, sizeof(path), "%s/sim_gpio%u/value", argv[3], off);
		lines[i].value_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (lines[i].value_fd < 0) {
			perror(path);
			return 1;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);

	clock_gettime(CLOCK_MONOTONIC, &next);
	prev = ns_of(&next);
	for (bool first = true; !stop; first = false) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		for (int i = 0; i < n; i++) {
			char s[sizeof(lines[i].state)];

			if (look(chip, &lines[i], s, sizeof(s)) < 0) {
				fprintf(stderr, "gpiowatch: %s: %s\n", lines[i].name, strerror(errno));
				return 1;
			}
			if (strcmp(s, lines[i].state) != 0) {
				printf("%lld %lld %s %s\n", ns_of(&t), prev, lines[i].name, s);
				snprintf(lines[i].state, sizeof(lines[i].state), "%s", s);
			}
		}
		if (first)
			printf("# watching every %ld ms\n", period_ms);
		prev = ns_of(&t);
		/* late (an emulated CPU, a busy guest): the next look a period from
		 * now, not a burst of looks to catch up */
		if (ns_of(&next) < prev)
			next = t;
		next.tv_nsec += period_ms * 1000000L;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR && !stop)
			;
	}
	return 0;
}
