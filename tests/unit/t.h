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

#endif
