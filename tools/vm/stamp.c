/* In the kernel-vm guest (/usr/bin/stamp): times on CLOCK_MONOTONIC, the
 * clock of the kernel's GPIO edge and IIO scan timestamps and of rig's run
 * time (its run_start event's t0_monotonic_ns).
 *
 *   stamp                 prints the time now, in ns
 *   stamp FILE TEXT       writes TEXT to FILE in one write(2) and prints the
 *                         time just before and just after it ("BEFORE AFTER"):
 *                         a gpio-sim `pull` written so has its edge, with the
 *                         kernel's timestamp, between the two.
 *
 * busybox has no such clock (`date` is CLOCK_REALTIME, /proc/uptime counts
 * hundredths): tools/kernel-vm builds this for the guest. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long long before, after;
	ssize_t n;
	size_t len;
	int fd;

	if (argc == 1) {
		printf("%lld\n", now_ns());
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: stamp [FILE TEXT]\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	len = strlen(argv[2]);
	before = now_ns();
	n = write(fd, argv[2], len);
	after = now_ns();
	if (n != (ssize_t)len) {
		perror(argv[1]);
		close(fd);
		return 1;
	}
	close(fd);
	printf("%lld %lld\n", before, after);
	return 0;
}
