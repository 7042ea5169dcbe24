/* A minimal unit-test harness: each TEST prints one line,
 * "PASS name", "FAIL name: why" or "SKIP name: why", which tests/run.py
 * counts.  A test binary exits 1 when any test failed. */
#ifndef GORR_T_H
#define GORR_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct t_state {
	const char *suite;
	const char *name;
	int failed, skipped;
	int any_failed;
	char why[4096];
};

static struct t_state T;

#define CHECK(cond, ...) do {						\
	if (!(cond) && !T.failed) {					\
		int n_ = snprintf(T.why, sizeof(T.why), "%s:%d: %s: ",	\
				  __FILE__, __LINE__, #cond);		\
		snprintf(T.why + n_, sizeof(T.why) - (size_t)n_, __VA_ARGS__); \
		T.failed = 1;						\
	}								\
} while (0)

#define SKIP(...) do {							\
	snprintf(T.why, sizeof(T.why), __VA_ARGS__);			\
	T.skipped = 1;							\
} while (0)

static inline void t_run(const char *name, void (*fn)(void))
{
	T.name = name;
	T.failed = T.skipped = 0;
	T.why[0] = '\0';
	fn();
	if (T.failed) {
		printf("FAIL %s/%s: %s\n", T.suite, name, T.why);
		T.any_failed = 1;
	} else if (T.skipped) {
		printf("SKIP %s/%s: %s\n", T.suite, name, T.why);
	} else {
		printf("PASS %s/%s\n", T.suite, name);
	}
	fflush(stdout);
}

#define RUN(fn) t_run(#fn, fn)

/* The Go binaries tests/run.py built, from GORR_GO_BINS: one per line,
 * "BINARY SOURCE GOVERSION STRIPPED(0|1)".  Returns how many (at most
 * max); 0 after printing the SKIP line of the suite when there are none. */
struct t_bin {
	char path[512], src[512], version[64];
	int stripped;
};

static inline int t_go_bins(struct t_bin *bins, int max)
{
	const char *p = getenv("GORR_GO_BINS");
	int n = 0;

	while (p && *p && n < max) {
		struct t_bin *b = &bins[n];

		if (sscanf(p, "%511s %511s %63s %d", b->path, b->src, b->version, &b->stripped) == 4)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!n)
		printf("SKIP %s/binaries: no Go binaries given (GORR_GO_BINS; tests/run.py builds them)\n",
		       T.suite);
	return n;
}

#endif
