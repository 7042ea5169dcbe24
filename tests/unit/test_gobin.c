/* The Go binary reader on real Go binaries, built by tests/run.py with
 * each toolchain, stripped and not.  GORR_GO_BINS lists them, one per
 * line: "BINARY SOURCE GOVERSION STRIPPED(0|1)".
 *
 * "test_gobin symbolize BINARY" reads hex PCs on stdin and prints
 * "FUNC FILE:LINE" per PC, for the end-to-end comparison with
 * `go tool addr2line`; "test_gobin frames BINARY" prints "PC FUNC
 * FILE:LINE" of the innermost inlined call at each PC, then " < CALLER"
 * for each frame it is inlined into (tests/progs/inline.go compares them
 * with Go's runtime.FuncForPC). */
#include "harness/go/gobin.h"
#include "t.h"

#include <errno.h>
#include <inttypes.h>

static struct t_bin bins[16];
static int nbins;
static struct t_bin *cur;

static int line_of(const char *src, const char *prefix)
{
	FILE *f = fopen(src, "r");
	char line[1024];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (!strncmp(line, prefix, strlen(prefix))) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return -1;
}

static void opens_and_versions(void)
{
	struct gobin b;

	CHECK(gobin_open(&b, cur->path) == 0, "open %s", cur->path);
	CHECK(b.is_go, "is_go");
	CHECK(!strcmp(b.go_version, cur->version), "version '%s', want '%s'", b.go_version, cur->version);
	CHECK(b.stripped == cur->stripped, "stripped=%d", b.stripped);
	CHECK(b.pcln && b.nfunc > 1000, "pclntab with %" PRIu64 " functions", b.nfunc);
	/* moduledata.gofunc, found in the static data, is the go:func.*
	 * symbol's address (go.func.* in Go 1.19). */
	CHECK(b.gofunc, "no moduledata.gofunc");
	if (!cur->stripped) {
		const struct gobin_sym *sym = gobin_symbol(&b, "go:func.*");

		if (!sym)
			sym = gobin_symbol(&b, "go.func.*");
		CHECK(sym && sym->addr == b.gofunc, "gofunc %#" PRIx64 ", symbol %#" PRIx64,
		      b.gofunc, sym ? sym->addr : 0);
	}
	gobin_release(&b);
}

static void main_main(void)
{
	struct gobin b;
	struct gobin_loc loc;
	uint64_t entry, pcs[8];
	size_t npcs;
	int want = line_of(cur->src, "func main()");
	const char *base = strrchr(cur->src, '/') + 1, *fn = NULL;

	CHECK(gobin_open(&b, cur->path) == 0, "open");
	entry = gobin_func_entry(&b, "main.main");
	CHECK(entry != 0, "main.main not found");
	CHECK(gobin_pc_lookup(&b, entry, &loc) == 0, "lookup");
	CHECK(loc.func && !strcmp(loc.func, "main.main"), "func %s", loc.func);
	CHECK(loc.entry == entry, "entry");
	CHECK(loc.file && strstr(loc.file, base), "file %s", loc.file);
	CHECK(loc.line == want, "line %d, want %d", loc.line, want);
	/* And back: the first PC of that line is in main.main. */
	npcs = gobin_line_pcs(&b, base, want, pcs, 8, &fn);
	CHECK(npcs == 1 && pcs[0] >= entry && fn && !strcmp(fn, "main.main"),
	      "line_pcs %zu, %#" PRIx64 " in %s", npcs, pcs[0], fn);
	CHECK(gobin_func_pcs(&b, "main.main", pcs, 8) == 1 && pcs[0] == entry, "func_pcs");
	CHECK(gobin_pc_lookup(&b, 0x10, &loc) == -ENOENT, "low PC");
	CHECK(gobin_func_entry(&b, "main.noSuchFunction") == 0, "missing function");
	if (cur->stripped)
		CHECK(gobin_symbol(&b, "main.main") == NULL, "stripped binary has symbols");
	gobin_release(&b);
}

/* The debug call check (runtime/debugcall.go debugCallCheck): never in
 * the runtime; in main.main some PCs are safe points and some (the
 * prologue's stack-bound check) are not. */
static void call_safe_points(void)
{
	struct gobin b;
	struct gobin_loc loc;
	uint64_t entry, pc, end;
	int safe = 0, unsafe = 0;

	CHECK(gobin_open(&b, cur->path) == 0, "open");
	entry = gobin_func_entry(&b, "runtime.mallocgc");
	CHECK(entry && !gobin_call_safe(&b, entry + 16), "runtime.mallocgc accepted");
	entry = gobin_func_entry(&b, "main.main");
	CHECK(entry != 0, "main.main not found");
	for (pc = entry, end = entry + 4096; pc < end; pc++) {
		if (gobin_pc_lookup(&b, pc, &loc) || strcmp(loc.func, "main.main"))
			break;
		if (gobin_call_safe(&b, pc))
			safe++;
		else
			unsafe++;
	}
	CHECK(safe > 0 && unsafe > 0, "main.main: %d safe PCs, %d unsafe", safe, unsafe);
	gobin_release(&b);
}

/* Every function the pclntab names sits where .symtab says. */
static void pclntab_agrees_with_symtab(void)
{
	struct gobin b;
	uint64_t i, entry, matched = 0, missing = 0;

	CHECK(gobin_open(&b, cur->path) == 0, "open");
	for (i = 0; i < b.nfunc; i++) {
		const char *name = gobin_func_name(&b, i, &entry);
		const struct gobin_sym *s = name ? gobin_symbol(&b, name) : NULL;
		const struct gobin_sym *abi0 = NULL;
		char wrapper[1024];

		if (!s) {
			missing++;
			continue;
		}
		/* Assembly functions also have an ABI wrapper: the pclntab
		 * names both NAME, .symtab calls the ABI0 one NAME.abi0
		 * (cmd/link, "abi0" suffix). */
		snprintf(wrapper, sizeof(wrapper), "%s.abi0", name);
		abi0 = gobin_symbol(&b, wrapper);
		CHECK(s->addr == entry || (abi0 && abi0->addr == entry),
		      "%s: pclntab %#" PRIx64 ", symtab %#" PRIx64, name, entry, s->addr);
		matched++;
	}
	CHECK(matched > 1000 && matched > 10 * missing, "matched %" PRIu64 ", missing %" PRIu64,
	      matched, missing);
	gobin_release(&b);
}

static void not_go(void)
{
	struct gobin b;

	CHECK(gobin_open(&b, "/bin/true") == 0, "open /bin/true");
	CHECK(!b.is_go, "/bin/true is not Go");
	gobin_release(&b);
	CHECK(gobin_open(&b, "/etc/passwd") == -ENOEXEC, "not ELF");
	gobin_release(&b);
	CHECK(gobin_open(&b, "/nonexistent") == -ENOENT, "missing");
	gobin_release(&b);
}

/* The symbolize and frames modes (see the top of this file). */
static int symbolize(const char *path, int frames)
{
	struct gobin b;
	char line[128];

	if (gobin_open(&b, path)) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		struct gobin_loc loc;
		struct gobin_frame fr[16];
		uint64_t pc = strtoull(line, NULL, 16);
		char name[512];
		int n, i;

		if (!frames) {
			if (gobin_pc_lookup(&b, pc, &loc) == 0)
				printf("%s %s:%d\n", loc.func, loc.file ? loc.file : "?", loc.line);
			else
				printf("? ?:0\n");
			continue;
		}
		n = gobin_pc_frames(&b, pc, fr, 16);
		printf("%#" PRIx64, pc);
		if (!n)
			printf(" ? ?:0");
		for (i = 0; i < n; i++)
			printf("%s%s %s:%d", i ? " < " : " ",
			       gobin_print_name(fr[i].func, name, sizeof(name)),
			       fr[i].file ? fr[i].file : "?", fr[i].line);
		printf("\n");
	}
	gobin_release(&b);
	return 0;
}

int main(int argc, char **argv)
{
	int i;

	if (argc == 3 && (!strcmp(argv[1], "symbolize") || !strcmp(argv[1], "frames")))
		return symbolize(argv[2], !strcmp(argv[1], "frames"));
	T.suite = "gobin";
	RUN(not_go);
	nbins = t_go_bins(bins, 16);
	if (!nbins)
		return 0;
	for (i = 0; i < nbins; i++) {
		const char *slash = strrchr(bins[i].path, '/');
		const char *name = slash ? slash + 1 : bins[i].path;

		cur = &bins[i];
		printf("# %s (%s)\n", bins[i].path, bins[i].version);
		{
			char n1[700], n2[700], n3[700];

			snprintf(n1, sizeof(n1), "opens_and_versions[%.60s/%.200s]", bins[i].version, name);
			snprintf(n2, sizeof(n2), "main_main[%.60s/%.200s]", bins[i].version, name);
			snprintf(n3, sizeof(n3), "pclntab_agrees_with_symtab[%.60s/%.200s]", bins[i].version, name);
			t_run(n1, opens_and_versions);
			t_run(n2, main_main);
			snprintf(n2, sizeof(n2), "call_safe_points[%.60s/%.200s]", bins[i].version, name);
			t_run(n2, call_safe_points);
			/* A stripped binary has no .symtab to compare with;
			 * test_symbols.py checks it against addr2line. */
			if (!cur->stripped)
				t_run(n3, pclntab_agrees_with_symtab);
		}
	}
	return T.any_failed;
}
