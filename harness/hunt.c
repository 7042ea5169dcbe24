/* gorr hunt: many `gorr run --chaos` runs of one program, one seed each,
 * JOBS at a time (each pinned to its own CPU), until a run fails.  Each
 * run is a child gorr process, so that a run's crash or hang is only that
 * run's.  All state lives in struct hunt. */
#define _GNU_SOURCE
#include "harness/hunt.h"
#include "harness/cli.h"
#include "harness/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 64

/* Why a run failed; the first is "passed". */
enum verdict {
	V_PASS,
	V_EXIT,			/* a non-zero exit status */
	V_SIGNAL,		/* killed by a signal */
	V_PANIC,		/* a Go panic */
	V_DEADLOCK,		/* Go's "all goroutines are asleep" */
	V_HANG,			/* gorr's hang detection */
	V_TIMEOUT,		/* --timeout of virtual time */
	V_LEAK,			/* --leaks */
	V_OUTPUT,		/* --fail-on matched */
	V_TEST_FAIL,		/* a go test binary said FAIL */
	V_GORR,			/* gorr itself failed (status 125) */
	V_RUN_TIMEOUT,		/* --run-timeout of wall time */
	V_COUNT
};

static const char *const verdict_names[V_COUNT] = {
	"passed", "exit status", "signal", "panic", "deadlock", "hang", "timeout",
	"goroutine leak", "output matched --fail-on", "test failed", "gorr error",
	"run timeout",
};

struct job {
	pid_t pid;		/* 0: free */
	uint64_t seed;
	int cpu;
	double started;		/* wall time it started (now_s) */
	int killed;		/* killed for --run-timeout */
	char out[PATH_MAX], err[PATH_MAX], trace[PATH_MAX];
};

struct failure {
	uint64_t seed;
	enum verdict v;
	int status;
	char detail[256];
};

struct hunt {
	/* Options. */
	uint64_t first, last;	/* seeds */
	int shard, nshards;
	int jobs;
	int chaos;
	int64_t timeout_ns;
	int64_t run_timeout_ns;	/* wall time one run may take; 0: no limit */
	const char *save;
	const char *fail_on;
	regex_t fail_re;
	int have_re;
	int keep_going, json, quiet, leaks;
	const char *junit;
	char **pass;		/* session options passed to each run */
	size_t npass;
	char *const *argv;	/* the program and its arguments */

	/* State. */
	char tmp[2048];		/* runs' traces and output */
	char saved[PATH_MAX];	/* where the first failure was saved */
	char prog[PATH_MAX];	/* the program as every run starts it: absolute when
				 * given with a folder, so that its saved copy can run
				 * as it (gorr run --as) */
	int cpus[MAX_JOBS], ncpus;
	struct job job[MAX_JOBS];
	uint64_t next_seed;
	uint64_t done, started, total;
	uint64_t by_verdict[V_COUNT];
	struct failure *fails;
	size_t nfails;
	int stop;
	int first_shown;	/* the first seed's output was passed through */
	int interrupted;	/* the signal that stopped the hunt, or 0 */
	sigset_t oldmask;	/* the signal mask the runs get back */
	double t0;
	int tty;
	char self[PATH_MAX];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char usage[] =
	"usage: gorr hunt [options] [--] PROG [ARGS...]\n"
	"\n"
	"Run PROG under 'gorr run --chaos' once per seed, JOBS at a time, to find\n"
	"a seed on which it fails: a non-zero exit, a signal, a panic, Go's deadlock\n"
	"report, a hang gorr detects, --timeout, goroutines leaked at exit (on by\n"
	"default for go test binaries, PROG.test), or output matching --fail-on.\n"
	"The first failure is run again from a saved copy of PROG to confirm it;\n"
	"its trace, output and a one-line reproducer are saved, and gorr exits 1.\n"
	"gorr exits 0 when every run passed. Works as 'go test -exec':\n"
	"    go test -exec 'gorr hunt -n 200 --' ./pkg\n"
	"\n"
	"options:\n"
	"  -n RUNS             how many seeds (default 100): 1..RUNS\n"
	"      --seeds A..B    the seeds A to B instead\n"
	"      --shard I/N     only the seeds of shard I (0-based) of N; --shard N takes\n"
	"                      I from $JOB_COMPLETION_INDEX (a Kubernetes indexed Job)\n"
	"  -j JOBS             runs at a time (default: the CPUs gorr may use)\n"
	"      --chaos LEVEL   schedule perturbation, 0-3 (default 3; docs/chaos.md)\n"
	"      --timeout DUR   a run that goes past DUR of virtual time fails\n"
	"                      (default 10m)\n"
	"      --run-timeout DUR  a run still going after DUR of wall time is killed\n"
	"                      and fails as 'run timeout' (default 2m; 0: no limit)\n"
	"      --fail-on REGEX a run whose output matches REGEX (POSIX extended) fails\n"
	"      --no-leaks      do not count leaked goroutines as failures\n"
	"      --save DIR      where failures are saved (default: gorr-hunt)\n"
	"      --keep-going    run every seed; report every failure\n"
	"      --json          print the summary as one JSON object on stdout\n"
	"      --junit FILE    write a JUnit XML report (one test case per failure)\n"
	"  -q, --quiet         no progress line, no summary unless a run failed\n"
	"  session options passed to each run: --inject, --inject-file, --cpus,\n"
	"  --hang-timeout, --leaks-ignore, --strsize (see 'gorr run --help')\n"
	"  -h, --help          show this help\n";

static int parse_range(const char *v, uint64_t *a, uint64_t *b)
{
	char *end;

	errno = 0;
	*a = strtoull(v, &end, 10);
	if (errno || end == v || strncmp(end, "..", 2))
		return -1;
	v = end + 2;
	*b = strtoull(v, &end, 10);
	if (errno || end == v || *end || *b < *a)
		return -1;
	return 0;
}

static int parse_args(struct hunt *h, int argc, char **argv, int *code)
{
	struct session_opts o;
	int i;

	cli_session_defaults(&o);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		uint64_t n;
		int start = i, used = 0;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			*code = 0;
			goto out;
		}
		if ((v = cli_opt_value("-n", argc, argv, &i))) {
			if (cli_parse_count("-n", v, UINT64_MAX - 1, &n) || n == 0)
				goto bad;
			h->first = 1;
			h->last = n;
		} else if ((v = cli_opt_value("-j", argc, argv, &i))) {
			if (cli_parse_count("-j", v, MAX_JOBS, &n) || n == 0)
				goto bad;
			h->jobs = (int)n;
		} else if ((v = cli_opt_value("--seeds", argc, argv, &i))) {
			if (parse_range(v, &h->first, &h->last)) {
				error("--seeds: '%s' is not a range such as 1..500", v);
				goto bad;
			}
		} else if ((v = cli_opt_value("--shard", argc, argv, &i))) {
			const char *slash = strchr(v, '/'), *idx = getenv("JOB_COMPLETION_INDEX");
			char *end;

			h->nshards = (int)strtol(slash ? slash + 1 : v, &end, 10);
			h->shard = slash ? (int)strtol(v, NULL, 10) : idx ? (int)strtol(idx, NULL, 10) : -1;
			if (*end || h->nshards < 1 || h->shard < 0 || h->shard >= h->nshards) {
				error("--shard: '%s' is not I/N with 0 <= I < N (or N with "
				      "$JOB_COMPLETION_INDEX set)", v);
				goto bad;
			}
		} else if ((v = cli_opt_value("--chaos", argc, argv, &i))) {
			if (cli_parse_count("--chaos", v, 3, &n))
				goto bad;
			h->chaos = (int)n;
		} else if ((v = cli_opt_value("--run-timeout", argc, argv, &i))) {
			if (cli_parse_duration("--run-timeout", v, &h->run_timeout_ns))
				goto bad;
		} else if ((v = cli_opt_value("--timeout", argc, argv, &i))) {
			if (cli_parse_duration("--timeout", v, &h->timeout_ns))
				goto bad;
		} else if ((v = cli_opt_value("--fail-on", argc, argv, &i))) {
			char msg[256];
			int err;

			if (h->have_re)
				regfree(&h->fail_re);
			err = regcomp(&h->fail_re, v, REG_EXTENDED | REG_NOSUB | REG_NEWLINE);
			if (err) {
				regerror(err, &h->fail_re, msg, sizeof(msg));
				error("--fail-on: bad regular expression '%s': %s", v, msg);
				goto bad;
			}
			h->have_re = 1;
			h->fail_on = v;
		} else if ((v = cli_opt_value("--save", argc, argv, &i))) {
			h->save = v;
		} else if ((v = cli_opt_value("--junit", argc, argv, &i))) {
			h->junit = v;
		} else if (!strcmp(a, "--no-leaks")) {
			h->leaks = 0;
		} else if (!strcmp(a, "--keep-going")) {
			h->keep_going = 1;
		} else if (!strcmp(a, "--json")) {
			h->json = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			h->quiet = 1;
		} else if (cli_is_opt(a, "--seed") || cli_is_opt(a, "--pin") || cli_is_opt(a, "--no-pin") ||
			   cli_is_opt(a, "-o") || cli_is_opt(a, "--output")) {
			error("'%s' is for one run; hunt chooses seeds, CPUs and files itself", a);
			goto bad;
		} else if ((used = cli_session_option(&o, argc, argv, &i)) > 0) {
			/* Checked here (a bad fault rule stops the hunt before
			 * it starts), passed to every run as written; --leaks
			 * is h->leaks, which run_argv passes once. */
			if (cli_is_opt(a, "--leaks") || cli_is_opt(a, "--leaks-ignore"))
				h->leaks = 1;
			for (; start <= i && !cli_is_opt(a, "--leaks"); start++) {
				h->pass = xrealloc(h->pass, (h->npass + 1) * sizeof(char *));
				h->pass[h->npass++] = argv[start];
			}
		} else {
			if (!used)
				error("unknown option '%s'", a);
			goto bad;
		}
		if (v && !*v)
			goto bad;
	}
	if (i >= argc) {
		error("no program given");
		goto bad;
	}
	h->argv = argv + i;
	if (!strchr(h->argv[0], '/') || !realpath(h->argv[0], h->prog))
		snprintf(h->prog, sizeof(h->prog), "%s", h->argv[0]);
	cli_session_release(&o);
	return 1;
bad:
	fprintf(stderr, "(see 'gorr hunt --help')\n");
	*code = EXIT_GORR_USAGE;
out:
	cli_session_release(&o);
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* The CPUs gorr may use, one per job. */
static void find_cpus(struct hunt *h)
{
	cpu_set_t set;
	int c;

	h->ncpus = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (c = 0; c < CPU_SETSIZE && h->ncpus < MAX_JOBS; c++)
			if (CPU_ISSET(c, &set))
				h->cpus[h->ncpus++] = c;
	if (!h->ncpus)
		h->cpus[h->ncpus++] = 0;
}

/* The seed after s that belongs to this shard, or 0 past the last. */
static uint64_t next_seed(struct hunt *h, uint64_t s)
{
	for (; s && s <= h->last; s++)
		if (h->nshards <= 1 || (s - h->first) % (uint64_t)h->nshards == (uint64_t)h->shard)
			return s;
	return 0;
}

/* argv for `gorr run` of one seed; strings in buf live as long as it. */
static char **run_argv(struct hunt *h, uint64_t seed, int cpu, const char *trace,
		       const char *prog, const char *as, char bufs[4][32])
{
	char **v = xcalloc(24 + h->npass + 64, sizeof(char *));
	size_t n = 0, i;

	v[n++] = h->self;
	v[n++] = "run";
	v[n++] = "-q";
	snprintf(bufs[0], 32, "%llu", (unsigned long long)seed);
	v[n++] = "--seed";
	v[n++] = bufs[0];
	snprintf(bufs[1], 32, "%d", h->chaos);
	v[n++] = "--chaos";
	v[n++] = bufs[1];
	if (cpu >= 0) {
		snprintf(bufs[2], 32, "%d", cpu);
		v[n++] = "--pin";
		v[n++] = bufs[2];
	}
	{
		struct sbuf d = SBUF_INIT;

		sbuf_add_duration(&d, h->timeout_ns);
		snprintf(bufs[3], 32, "%s", d.buf);
		sbuf_release(&d);
	}
	v[n++] = "--timeout";
	v[n++] = bufs[3];
	if (h->leaks)
		v[n++] = "--leaks";
	for (i = 0; i < h->npass; i++)
		v[n++] = h->pass[i];
	if (trace) {
		v[n++] = "-o";
		v[n++] = (char *)trace;
	}
	if (as) {
		v[n++] = "--as";
		v[n++] = (char *)as;
	}
	v[n++] = "--";
	v[n++] = (char *)prog;
	for (i = 1; h->argv[i]; i++) {
		v = xrealloc(v, (n + 2) * sizeof(char *));
		v[n++] = h->argv[i];
	}
	v[n] = NULL;
	return v;
}

static pid_t spawn(char **argv, const char *out, const char *err, const sigset_t *oldmask)
{
	pid_t pid = fork();

	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(EXIT_GORR_FAILURE);
		/* In hunt's process group, so that a Ctrl-C stops every run,
		 * and killed with hunt whatever kills it (the program then
		 * dies with its gorr: PTRACE_O_EXITKILL). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		execv(argv[0], argv);
		_exit(EXIT_GORR_FAILURE);
	}
	return pid;
}

static char *slurp(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	char *buf = xmalloc(max + 1);
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, max, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static void copy_out(const char *path, FILE *to)
{
	char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, to);
	fclose(f);
	fflush(to);
}

/* Why a run with this wait status and output failed (or V_PASS). */
static enum verdict classify(struct hunt *h, int status, const char *out, const char *err,
			     char *detail, size_t size)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	const char *p;

	detail[0] = '\0';
	if (h->have_re && (regexec(&h->fail_re, out, 0, NULL, 0) == 0 ||
			   regexec(&h->fail_re, err, 0, NULL, 0) == 0)) {
		snprintf(detail, size, "output matched '%s'", h->fail_on);
		return V_OUTPUT;
	}
	if (code == 0)
		return V_PASS;
	if (code == EXIT_GORR_FAILURE) {
		p = strstr(err, "gorr: ");
		snprintf(detail, size, "%.*s", p ? (int)strcspn(p, "\n") : 0, p ? p : "");
		return V_GORR;
	}
	if (code == EXIT_GORR_LEAKS) {
		p = strstr(err, "gorr: ");
		snprintf(detail, size, "%.*s", p ? (int)strcspn(p, "\n") : 0, p ? p : "");
		return V_LEAK;
	}
	if (code == EXIT_GORR_HANG) {
		p = strstr(err, "gorr: timeout");
		if (!p)
			p = strstr(err, "gorr: hang");
		snprintf(detail, size, "%.*s", p ? (int)strcspn(p, "\n") : 0, p ? p : "");
		return p && !strncmp(p, "gorr: timeout", 13) ? V_TIMEOUT : V_HANG;
	}
	if ((p = strstr(err, "fatal error: all goroutines are asleep"))) {
		snprintf(detail, size, "%.*s", (int)strcspn(p, "\n"), p);
		return V_DEADLOCK;
	}
	if ((p = strstr(err, "panic: ")) || (p = strstr(err, "fatal error: "))) {
		snprintf(detail, size, "%.*s", (int)strcspn(p, "\n"), p);
		return V_PANIC;
	}
	if (code > 128) {
		snprintf(detail, size, "killed by signal %d (%s)", code - 128, strsignal(code - 128));
		return V_SIGNAL;
	}
	if ((p = strstr(out, "--- FAIL: ")) || (p = strstr(err, "--- FAIL: "))) {
		snprintf(detail, size, "%.*s", (int)strcspn(p, "\n"), p);
		return V_TEST_FAIL;
	}
	snprintf(detail, size, "exit status %d", code);
	return V_EXIT;
}

static void progress(struct hunt *h, int final)
{
	double el = now_s() - h->t0, rate = el > 0 ? h->done / el : 0;

	if (!h->tty || h->quiet)
		return;
	fprintf(stderr, "\r\033[Kgorr hunt: %llu/%llu runs, %zu failed, %.1f runs/s",
		(unsigned long long)h->done, (unsigned long long)h->total, h->nfails, rate);
	if (!final && rate > 0 && h->total > h->done)
		fprintf(stderr, ", ETA %.0fs", (h->total - h->done) / rate);
	if (final)
		fputc('\n', stderr);
}

/* Stop the runs still going whose seed is above `above` (0: all):
 * their results no longer count. */
static void kill_above(struct hunt *h, uint64_t above)
{
	int i, status;

	for (i = 0; i < h->jobs; i++)
		if (h->job[i].pid > 0 && h->job[i].seed > above) {
			kill(h->job[i].pid, SIGKILL);
			while (waitpid(h->job[i].pid, &status, 0) < 0 && errno == EINTR)
				;
			unlink(h->job[i].out);
			unlink(h->job[i].err);
			unlink(h->job[i].trace);
			h->job[i].pid = 0;
		}
}

/* The lowest failing seed so far (there is one). */
static uint64_t lowest_fail(const struct hunt *h)
{
	uint64_t low = h->fails[0].seed;
	size_t i;

	for (i = 1; i < h->nfails; i++)
		if (h->fails[i].seed < low)
			low = h->fails[i].seed;
	return low;
}

/* A run killed for --run-timeout. */
static enum verdict run_timed_out(const struct hunt *h, char *detail, size_t size)
{
	struct sbuf d = SBUF_INIT;

	sbuf_add_duration(&d, h->run_timeout_ns);
	snprintf(detail, size, "still running after %s of wall time (--run-timeout)", d.buf);
	sbuf_release(&d);
	return V_RUN_TIMEOUT;
}

/* How long, from now, until the first running job passes --run-timeout
 * (kill those already past it); -1 when none can. */
static double run_deadlines(struct hunt *h)
{
	double limit = (double)h->run_timeout_ns / 1e9, now = now_s(), first = -1;
	int i;

	if (!h->run_timeout_ns)
		return -1;
	for (i = 0; i < h->jobs; i++) {
		struct job *j = &h->job[i];
		double left = j->started + limit - now;

		if (j->pid <= 0 || j->killed)
			continue;
		if (left <= 0) {
			/* Its program dies with it (PTRACE_O_EXITKILL). */
			kill(j->pid, SIGKILL);
			j->killed = 1;
			continue;
		}
		if (first < 0 || left < first)
			first = left;
	}
	return first;
}

static void start_job(struct hunt *h, struct job *j, uint64_t seed, int slot)
{
	char bufs[4][32];
	char **v;

	j->seed = seed;
	j->cpu = h->cpus[slot % h->ncpus];
	snprintf(j->out, sizeof(j->out), "%s/%llu.out", h->tmp, (unsigned long long)seed);
	snprintf(j->err, sizeof(j->err), "%s/%llu.err", h->tmp, (unsigned long long)seed);
	snprintf(j->trace, sizeof(j->trace), "%s/%llu.gorr", h->tmp, (unsigned long long)seed);
	v = run_argv(h, seed, j->cpu, j->trace, h->prog, NULL, bufs);
	j->pid = spawn(v, j->out, j->err, &h->oldmask);
	j->started = now_s();
	j->killed = 0;
	free(v);
	h->started++;
}

static void finish_job(struct hunt *h, struct job *j, int status)
{
	char *out = slurp(j->out, 1 << 20), *err = slurp(j->err, 1 << 20);
	struct failure f;

	memset(&f, 0, sizeof(f));
	f.seed = j->seed;
	f.status = status;
	f.v = j->killed ? run_timed_out(h, f.detail, sizeof(f.detail)) :
			  classify(h, status, out, err, f.detail, sizeof(f.detail));
	h->by_verdict[f.v]++;
	h->done++;
	/* go test -exec: the first seed's output is the test's output. */
	if (j->seed == h->first && !h->first_shown) {
		h->first_shown = 1;
		if (h->tty && !h->quiet)
			fprintf(stderr, "\r\033[K");
		copy_out(j->out, stdout);
		copy_out(j->err, stderr);
	}
	if (f.v != V_PASS) {
		h->fails = xrealloc(h->fails, (h->nfails + 1) * sizeof(*h->fails));
		h->fails[h->nfails++] = f;
		if (!h->keep_going)
			h->stop = 1;
	} else {
		unlink(j->trace);
	}
	unlink(j->out);
	unlink(j->err);
	free(out);
	free(err);
	j->pid = 0;
}

/* Quote an argument for a shell command line. */
static void shell_quote(struct sbuf *sb, const char *a)
{
	if (*a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			 "-_./=:,+@%") == strlen(a)) {
		sbuf_adds(sb, a);
		return;
	}
	sbuf_addc(sb, '\'');
	for (; *a; a++) {
		if (*a == '\'')
			sbuf_adds(sb, "'\\''");
		else
			sbuf_addc(sb, *a);
	}
	sbuf_addc(sb, '\'');
}

/* Wait for the run pid (SIGCHLD is blocked: taken with sigtimedwait),
 * killing it once it passes --run-timeout; 1 when it was killed. */
static int wait_run(const struct hunt *h, pid_t pid, int *status)
{
	double end = now_s() + (double)h->run_timeout_ns / 1e9;
	int killed = 0;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (pid > 0) {
		pid_t r = waitpid(pid, status, WNOHANG);
		struct timespec ts = { 0, 100 * 1000000L };

		if (r == pid || (r < 0 && errno != EINTR))
			break;
		if (r == 0 && h->run_timeout_ns && !killed && now_s() >= end) {
			kill(pid, SIGKILL);
			killed = 1;
			continue;
		}
		if (r == 0)
			sigtimedwait(&chld, NULL, &ts);
	}
	return killed;
}

/* The first failure: PROG is copied into DIR (a go test binary lives in
 * a directory go test deletes), and the seed runs again from the copy,
 * writing DIR's trace and output; the reproducer is that command.
 * *confirmed: 1 it failed the same way, 0 it did not, -1 it could not be
 * run again (never taken for a flaky reproducer). */
static void save_failure(struct hunt *h, struct failure *f, struct sbuf *repro, int *confirmed)
{
	char prog[PATH_MAX], trace[PATH_MAX], out[PATH_MAX], err[PATH_MAX], dir[PATH_MAX], d[2048];
	const char *base = strrchr(h->prog, '/');
	char bufs[4][32], detail[256];
	char **v;
	pid_t pid;
	int status = 0, i, e_dir, killed;
	char *o, *e;

	base = base ? base + 1 : h->prog;
	/* --save a/b/c makes a and a/b too. */
	e_dir = mkdir_p(h->save, 0755);
	if (e_dir || !realpath(h->save, dir)) {
		snprintf(dir, sizeof(dir), "%s/gorr-hunt-XXXXXX",
			 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		warning("cannot save to '%s': %s; saving to '%s' instead", h->save,
			strerror(e_dir ? -e_dir : errno), mkdtemp(dir) ? dir : h->tmp);
		if (strstr(dir, "XXXXXX"))
			snprintf(dir, sizeof(dir), "%s", h->tmp);
	}
	snprintf(h->saved, sizeof(h->saved), "%s", dir);
	snprintf(d, sizeof(d), "%.2000s", dir);
	snprintf(prog, sizeof(prog), "%s/%.1000s", d, base);
	if (copy_file(h->prog, prog))
		snprintf(prog, sizeof(prog), "%s", h->prog);
	snprintf(trace, sizeof(trace), "%s/seed-%llu.gorr", d, (unsigned long long)f->seed);
	snprintf(out, sizeof(out), "%s/seed-%llu.stdout", d, (unsigned long long)f->seed);
	snprintf(err, sizeof(err), "%s/seed-%llu.stderr", d, (unsigned long long)f->seed);
	/* The copy runs as the original (its path, /proc/self/maps...):
	 * a program that reads its own path must not fail differently
	 * because the copy lies elsewhere (issue 16: glibc reads the maps,
	 * and a longer path cost one more read). */
	v = run_argv(h, f->seed, -1, trace, prog,
		     h->prog[0] == '/' && strcmp(prog, h->prog) ? h->prog : NULL, bufs);
	pid = spawn(v, out, err, &h->oldmask);
	killed = wait_run(h, pid, &status);
	o = slurp(out, 1 << 20);
	e = slurp(err, 1 << 20);
	if (pid <= 0)
		*confirmed = -1;
	else
		*confirmed = (killed ? run_timed_out(h, detail, sizeof(detail)) :
			      classify(h, status, o, e, detail, sizeof(detail))) == f->v;
	free(o);
	free(e);
	/* The reproducer: the run without its -q, CPU and trace file. */
	shell_quote(repro, "gorr");
	for (i = 1; v[i]; i++) {
		if (!strcmp(v[i], "-q"))
			continue;
		if (!strcmp(v[i], "-o")) {
			i++;
			continue;
		}
		sbuf_addc(repro, ' ');
		shell_quote(repro, v[i]);
	}
	free(v);
}

/* A JSON string on stdout (util.c's escaping). */
static void json_str(const char *str)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_add_json_str(&sb, str, strlen(str));
	fputs(sb.buf, stdout);
	sbuf_release(&sb);
}

static void xml_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n')
				fputc(*s, f);
		}
	}
}

static void report(struct hunt *h, double secs, const char *repro, int confirmed)
{
	size_t i;
	int v;

	if (h->nfails) {
		struct failure *f = &h->fails[0];

		fprintf(stderr, "gorr hunt: seed %llu failed: %s%s%s\n", (unsigned long long)f->seed,
			verdict_names[f->v], f->detail[0] ? ": " : "", f->detail);
		fprintf(stderr, "gorr hunt: %s; trace and output in %s/\n",
			confirmed > 0 ? "it fails again from the saved copy" :
			confirmed < 0 ? "WARNING: it could not be run again to confirm it" :
					"WARNING: it did not fail the same way when run again",
			h->saved[0] ? h->saved : h->save);
		fprintf(stderr, "gorr hunt: reproduce with:\n    %s\n", repro);
		for (i = 1; i < h->nfails; i++)
			fprintf(stderr, "gorr hunt: seed %llu failed too: %s%s%s\n",
				(unsigned long long)h->fails[i].seed, verdict_names[h->fails[i].v],
				h->fails[i].detail[0] ? ": " : "", h->fails[i].detail);
	}
	if (!h->quiet || h->nfails) {
		fprintf(stderr, "gorr hunt: %llu runs, %zu failed", (unsigned long long)h->done, h->nfails);
		for (v = 1; v < V_COUNT; v++)
			if (h->by_verdict[v])
				fprintf(stderr, ", %s: %llu", verdict_names[v],
					(unsigned long long)h->by_verdict[v]);
		fprintf(stderr, "; %.1f runs/s\n", secs > 0 ? h->done / secs : 0);
	}
	if (h->json) {
		printf("{\"runs\": %llu, \"failed\": %zu, \"seconds\": %.3f, \"runs_per_second\": %.2f, "
		       "\"by_reason\": {", (unsigned long long)h->done, h->nfails, secs,
		       secs > 0 ? h->done / secs : 0);
		for (v = 1, i = 0; v < V_COUNT; v++)
			if (h->by_verdict[v])
				printf("%s\"%s\": %llu", i++ ? ", " : "", verdict_names[v],
				       (unsigned long long)h->by_verdict[v]);
		printf("}, \"failures\": [");
		for (i = 0; i < h->nfails; i++) {
			printf("%s{\"seed\": %llu, \"reason\": ", i ? ", " : "",
			       (unsigned long long)h->fails[i].seed);
			json_str(verdict_names[h->fails[i].v]);
			printf(", \"detail\": ");
			json_str(h->fails[i].detail);
			printf("}");
		}
		printf("]");
		if (h->nfails) {
			printf(", \"reproducer\": ");
			json_str(repro);
			printf(", \"confirmed\": %s", confirmed > 0 ? "true" : confirmed < 0 ? "null" : "false");
		}
		printf("}\n");
	}
	if (h->junit) {
		FILE *f = fopen(h->junit, "w");

		if (!f) {
			warning("cannot write '%s': %s", h->junit, strerror(errno));
			return;
		}
		fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			   "<testsuite name=\"gorr hunt\" tests=\"%llu\" failures=\"%zu\" time=\"%.3f\">\n",
			(unsigned long long)h->done, h->nfails, secs);
		for (i = 0; i < h->nfails; i++) {
			fprintf(f, "  <testcase classname=\"gorr.hunt\" name=\"seed %llu\">\n"
				   "    <failure message=\"", (unsigned long long)h->fails[i].seed);
			xml_str(f, verdict_names[h->fails[i].v]);
			fputs("\">", f);
			xml_str(f, h->fails[i].detail);
			if (i == 0) {
				fputs("\nreproduce with: ", f);
				xml_str(f, repro);
			}
			fputs("</failure>\n  </testcase>\n", f);
		}
		if (h->done > h->nfails)
			fprintf(f, "  <testcase classname=\"gorr.hunt\" name=\"%llu passing seeds\"/>\n",
				(unsigned long long)(h->done - h->nfails));
		fputs("</testsuite>\n", f);
		fclose(f);
	}
}

static int cmp_seed(const void *a, const void *b)
{
	const struct failure *x = a, *y = b;

	return x->seed < y->seed ? -1 : x->seed > y->seed;
}

int cmd_hunt(int argc, char **argv)
{
	struct hunt h;
	struct sbuf repro = SBUF_INIT;
	sigset_t sigs;
	int code = 0, i, confirmed = 0;
	uint64_t s;
	ssize_t n;

	memset(&h, 0, sizeof(h));
	h.first = 1;
	h.last = 100;
	h.chaos = 3;
	h.timeout_ns = 600 * 1000000000LL;
	h.run_timeout_ns = 120 * 1000000000LL;
	h.save = "gorr-hunt";
	h.leaks = -1;
	if (!parse_args(&h, argc, argv, &code))
		goto out;
	if (h.leaks < 0)	/* on for go test binaries */
		h.leaks = ends_with(h.argv[0], ".test");
	if (access(h.argv[0], X_OK) != 0) {
		error("cannot run '%s': %s", h.argv[0], strerror(errno));
		code = EXIT_GORR_FAILURE;
		goto out;
	}
	n = readlink("/proc/self/exe", h.self, sizeof(h.self) - 1);
	if (n <= 0) {
		error("cannot find gorr's own binary: %s", strerror(errno));
		code = EXIT_GORR_FAILURE;
		goto out;
	}
	h.self[n] = '\0';
	snprintf(h.tmp, sizeof(h.tmp), "%s/gorr-hunt-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(h.tmp)) {
		error("cannot create a directory in '%s': %s", h.tmp, strerror(errno));
		code = EXIT_GORR_FAILURE;
		goto out;
	}
	find_cpus(&h);
	if (!h.jobs)
		h.jobs = h.ncpus;
	for (s = next_seed(&h, h.first); s; s = next_seed(&h, s + 1))
		h.total++;
	h.tty = isatty(2);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, &h.oldmask);
	h.t0 = now_s();
	h.next_seed = next_seed(&h, h.first);
	while (1) {
		int running = 0, status;
		pid_t pid;

		for (i = 0; i < h.jobs && !h.stop; i++)
			if (!h.job[i].pid && h.next_seed) {
				start_job(&h, &h.job[i], h.next_seed, i);
				h.next_seed = next_seed(&h, h.next_seed + 1);
			}
		for (i = 0; i < h.jobs; i++)
			running += h.job[i].pid > 0;
		if (!running)
			break;
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0) {
			/* Nothing finished: wait for a child, for Ctrl-C,
			 * SIGTERM, SIGHUP (blocked, taken here: no handler), or
			 * for the first --run-timeout to come. */
			siginfo_t si;
			double left = run_deadlines(&h);
			struct timespec ts = { 0, 0 };
			int got;

			if (left >= 0) {
				ts.tv_sec = (time_t)left;
				ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9) + 1000000;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
			}
			got = left >= 0 ? sigtimedwait(&sigs, &si, &ts) : sigwaitinfo(&sigs, &si);
			if (got > 0 && si.si_signo != SIGCHLD) {
				h.interrupted = si.si_signo;
				h.stop = 1;
				kill_above(&h, 0);
				break;
			}
			continue;
		}
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < h.jobs; i++)
			if (h.job[i].pid == pid) {
				finish_job(&h, &h.job[i], status);
				break;
			}
		/* A failure ends the hunt, but the runs of lower seeds still
		 * going finish first: the same hunt reports the same (lowest)
		 * failing seed whichever parallel run failed first (issue 16). */
		if (h.stop)
			kill_above(&h, h.nfails ? lowest_fail(&h) : 0);
		progress(&h, 0);
	}
	progress(&h, 1);
	/* Jobs finish in any order: the lowest seed is the one reported. */
	if (h.nfails > 1)
		qsort(h.fails, h.nfails, sizeof(*h.fails), cmp_seed);
	{
		double secs = now_s() - h.t0;

		if (h.nfails) {
			save_failure(&h, &h.fails[0], &repro, &confirmed);
			/* The hunt's own trace of the first failure too. */
		}
		report(&h, secs, repro.buf ? repro.buf : "", confirmed);
	}
	code = h.nfails ? (h.by_verdict[V_GORR] == h.nfails ? EXIT_GORR_FAILURE : 1) : 0;
	if (h.interrupted && !h.nfails) {
		fprintf(stderr, "gorr hunt: stopped by %s after %llu runs\n", strsignal(h.interrupted),
			(unsigned long long)h.done);
		code = 128 + h.interrupted;
	}
	/* The traces of the failing runs go to DIR: the first failure's
	 * beside the confirming run's (seed-N.hunt.gorr), the others as
	 * seed-N.gorr. */
	for (i = 0; i < (int)h.nfails; i++) {
		char t[PATH_MAX], d[PATH_MAX];

		snprintf(t, sizeof(t), "%s/%llu.gorr", h.tmp, (unsigned long long)h.fails[i].seed);
		snprintf(d, sizeof(d), "%.2048s/seed-%llu%s.gorr", h.save,
			 (unsigned long long)h.fails[i].seed, i ? "" : ".hunt");
		if (rename(t, d))
			unlink(t);
	}
	rmdir(h.tmp);
out:
	sbuf_release(&repro);
	free(h.pass);
	free(h.fails);
	if (h.have_re)
		regfree(&h.fail_re);
	return code;
}
