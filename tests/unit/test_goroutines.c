/* The Go runtime's layout as gorr finds it, on real Go binaries (the
 * list in GORR_GO_BINS, as for test_gobin): from DWARF in plain builds,
 * from harness/go/goruntime_tables.h in stripped ones, which must agree;
 * runtime.allgs found in code where .symtab has no entry.
 *
 * "test_goroutines layout BINARY" prints the layout as a table row. */
#include "harness/engine.h"
#include "harness/go/goroutines.h"
#include "t.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct t_bin bins[16];
static int nbins;
static struct t_bin *cur;

static int open_session(struct session *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	if (gobin_open(&s->bin, path))
		return -1;
	s->have_bin = 1;
	s->exe = s->bin.path;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &s->cs) != CS_ERR_OK)
		return -1;
	s->cs_open = 1;
	return 0;
}

static void close_session(struct session *s)
{
	free(s->layout);
	cs_close(&s->cs);
	gobin_release(&s->bin);
}

/* As a row of go_layouts[] in harness/go/goruntime_tables.h. */
static void print_layout(const char *release, const struct go_layout *L)
{
	printf("\t{ \"%s\", { .g_m = %u, .g_sched = %u, .g_syscallsp = %u, .g_syscallpc = %u,\n"
	       "\t\t      .g_atomicstatus = %u, .g_goid = %u, .g_waitsince = %u,\n"
	       "\t\t      .g_waitreason = %u, .g_gopc = %u, .g_startpc = %u,\n",
	       release, L->g_m, L->g_sched, L->g_syscallsp, L->g_syscallpc, L->g_atomicstatus,
	       L->g_goid, L->g_waitsince, L->g_waitreason, L->g_gopc, L->g_startpc);
	if (L->has_parentgoid)
		printf("\t\t      .g_parentgoid = %u, .has_parentgoid = 1,\n", L->g_parentgoid);
	printf("\t\t      .g_stackguard0 = %u, .g_preempt = %u,\n", L->g_stackguard0, L->g_preempt);
	if (L->has_trackingseq)
		printf("\t\t      .g_trackingseq = %u, .has_trackingseq = 1,\n", L->g_trackingseq);
	printf("\t\t      .gobuf_sp = %u, .gobuf_pc = %u, .gobuf_bp = %u, .m_procid = %u } },\n",
	       L->gobuf_sp, L->gobuf_pc, L->gobuf_bp, L->m_procid);
}

#define SAME(f) CHECK(a->f == b->f, #f " %u (DWARF) vs %u (table)", (unsigned)a->f, (unsigned)b->f)

/* The plain build's DWARF and the stripped build's table agree. */
static void dwarf_and_table_agree(void)
{
	struct session s1, s2;
	const struct go_layout *a, *b;
	struct sbuf why = SBUF_INIT;
	char plain[520];
	size_t n = strlen(cur->path) - strlen("-stripped");

	snprintf(plain, sizeof(plain), "%.*s", (int)n, cur->path);
	CHECK(open_session(&s1, plain) == 0 && open_session(&s2, cur->path) == 0, "open");
	a = goroutines_layout(&s1, &why);
	b = goroutines_layout(&s2, &why);
	CHECK(a && b, "%s", why.buf);
	if (a && b) {
		CHECK(!strcmp(a->source, "DWARF"), "plain build's layout from %s", a->source);
		CHECK(strcmp(b->source, "DWARF"), "stripped build's layout from DWARF");
		SAME(g_m); SAME(g_sched); SAME(g_syscallsp); SAME(g_syscallpc);
		SAME(g_atomicstatus); SAME(g_goid); SAME(g_waitsince); SAME(g_waitreason);
		SAME(g_gopc); SAME(g_startpc); SAME(has_parentgoid); SAME(gobuf_sp);
		SAME(gobuf_pc); SAME(gobuf_bp); SAME(m_procid);
		SAME(g_stackguard0); SAME(g_preempt); SAME(has_trackingseq); SAME(g_trackingseq);
		if (a->has_parentgoid)
			SAME(g_parentgoid);
		/* runtime.allgs from the code, as in the stripped build. */
		CHECK(a->allgs == goroutines_allgs_from_code(&s1), "allgs %#" PRIx64 " vs code %#" PRIx64,
		      a->allgs, goroutines_allgs_from_code(&s1));
		CHECK(b->allgs != 0, "allgs");
		/* The wait reasons in the binary match the table. */
		CHECK(a->nwaitreasons == b->nwaitreasons, "%zu wait reasons in the binary, %zu in the table",
		      a->nwaitreasons, b->nwaitreasons);
	}
	sbuf_release(&why);
	close_session(&s1);
	close_session(&s2);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "test_goroutines bench PROG N": start PROG -wait -n N (tests/progs/
 * manyg.go), stop it once it says ready, and time reading its
 * goroutines: the layout once (DWARF or table), then the list 50 times. */
static int bench(const char *prog, const char *n)
{
	double t0, first, runs[50];
	struct session s;
	struct thread t;
	struct sbuf why = SBUF_INIT;
	struct goroutine *gs = NULL;
	size_t count = 0;
	char line[64] = "";
	int fds[2], i;
	pid_t pid;
	FILE *f;

	if (pipe(fds))
		return 1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		execl(prog, prog, "-wait", "-n", n, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "ready", 5)) {
		fprintf(stderr, "bench: %s did not get ready\n", prog);
		kill(pid, SIGKILL);
		return 1;
	}
	kill(pid, SIGSTOP);
	if (open_session(&s, prog))
		return 1;
	memset(&t, 0, sizeof(t));
	t.tid = t.tgid = pid;
	t0 = now_ms();
	if (!goroutines_layout(&s, &why)) {
		fprintf(stderr, "bench: %s\n", why.buf);
		kill(pid, SIGKILL);
		return 1;
	}
	first = now_ms() - t0;
	for (i = 0; i < 50; i++) {
		free(gs);
		t0 = now_ms();
		if (goroutines_read(&s, &t, &gs, &count, &why)) {
			fprintf(stderr, "bench: %s\n", why.buf);
			kill(pid, SIGKILL);
			return 1;
		}
		runs[i] = now_ms() - t0;
	}
	qsort(runs, 50, sizeof(runs[0]), cmp_double);
	printf("%s %s: %zu goroutines read in %.3f ms (median of 50; min %.3f, max %.3f); "
	       "layout (%s) found in %.1f ms", s.bin.go_version, prog, count, runs[25], runs[0],
	       runs[49], s.layout->source, first);
	/* And the whole listing, stacks unwound and symbolized. */
	for (i = 0; i < 10; i++) {
		struct sbuf out = SBUF_INIT;

		t0 = now_ms();
		goroutines_dump(&out, &s, &t, 1);
		runs[i] = now_ms() - t0;
		sbuf_release(&out);
	}
	qsort(runs, 10, sizeof(runs[0]), cmp_double);
	printf("; listed with stacks in %.3f ms (median of 10)\n", runs[5]);
	free(gs);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close_session(&s);
	sbuf_release(&why);
	return 0;
}

int main(int argc, char **argv)
{
	int i;

	if (argc == 4 && !strcmp(argv[1], "bench"))
		return bench(argv[2], argv[3]);

	if (argc == 3 && !strcmp(argv[1], "layout")) {
		struct session s;
		struct sbuf why = SBUF_INIT;
		const struct go_layout *L;

		if (open_session(&s, argv[2]))
			return 1;
		L = goroutines_layout(&s, &why);
		if (!L) {
			fprintf(stderr, "%s\n", why.buf);
			return 1;
		}
		{
			/* "go1.22.12" -> "go1.22": one row per release */
			char rel[32];
			const char *dot = strchr(s.bin.go_version + 4, '.');
			size_t n = dot ? (size_t)(dot - s.bin.go_version) : strlen(s.bin.go_version);

			snprintf(rel, sizeof(rel), "%.*s", (int)(n < sizeof(rel) ? n : sizeof(rel) - 1),
				 s.bin.go_version);
			printf("\t/* %s, from %s */\n", s.bin.go_version, L->source);
			print_layout(rel, L);
		}
		close_session(&s);
		return 0;
	}
	T.suite = "goroutines";
	nbins = t_go_bins(bins, 16);
	if (!nbins)
		return 0;
	for (i = 0; i < nbins; i++) {
		const char *slash = strrchr(bins[i].path, '/');
		char name[700];

		if (!bins[i].stripped)
			continue;
		cur = &bins[i];
		snprintf(name, sizeof(name), "dwarf_and_table_agree[%.60s/%.200s]", bins[i].version,
			 slash ? slash + 1 : bins[i].path);
		t_run(name, dwarf_and_table_agree);
	}
	return T.any_failed;
}
