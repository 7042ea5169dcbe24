/* Clock reads through glibc's vDSO calls (clock_gettime, gettimeofday,
 * time), in a forked child too: under `gorr record` they go through
 * gorr's vDSO (docs/ARCHITECTURE.md, "Clock reads without stops"), and a
 * replay prints the same values.  Built by tests/e2e/test_replay.py. */
#include <stdio.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec ts;
	struct timeval tv;
	long sum = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		clock_gettime(i % 2 ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
		gettimeofday(&tv, NULL);
		sum += ts.tv_nsec % 1009 + tv.tv_usec % 7 + time(NULL) % 3;
	}
	fflush(stdout);
	if (fork() == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("child %ld\n", ts.tv_nsec);
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("parent %ld %ld %ld\n", sum, ts.tv_nsec, (long)time(NULL));
	return 0;
}
