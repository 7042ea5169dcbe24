/* Counted timeslices (harness/core/count.h). */
#define _GNU_SOURCE
#include "harness/core/count.h"
#include "harness/core/breakpoint.h"
#include "harness/core/condbp.h"
#include "harness/core/ptrace.h"
#include "harness/base/util.h"
#include "harness/go/gobin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096ULL
/* Below a non-PIE Go binary (0x400000) the place 2 MB down holds 512
 * pages; condbp's two and the syscall buffer's come first (condbp.c
 * condbp_near_page: these start 4 pages in). */
#define COUNT_PAGES_MAX 500
#define FUNC_MAX (1u << 20)
#define BODY_MAX 100		/* jrcxz reaches the trap stub over the body: rel8 */
#define CTR_OFF 0		/* the counter, in the data page */
#define SAVE_OFF 8		/* RCX while the trampoline counts */
#define LEAVE_STEPS 64

static const char count_sig[8] = "gorrcnt";

struct count_site {
	uint64_t win;		/* the window: its start and length */
	uint32_t len;
	uint32_t off;		/* the trampoline, from the code pages' start */
	uint32_t body;		/* ...its displaced instructions */
	uint32_t trap;		/* ...its stub: mov rcx, [save]; int3 */
	uint32_t end;
};

struct count_state {
	pid_t tgid;
	uint64_t data;		/* the data page */
	uint64_t code;		/* the trampolines */
	uint64_t code_len;
	struct count_site *v;
	size_t n;
	unsigned char *on;	/* per site: its window is patched */
	uint64_t last;		/* the counter when last read or set */
	/* The data page as gorr maps it too (share_data), or NULL: then
	 * the counter is read and set through process_vm_readv/writev. */
	volatile uint64_t *shared;
};

/* Nothing in a window may write the stack, leave the straight line, or
 * read what gorr emulates. */
static int window_safe(const cs_insn *in)
{
	static const char *const bad[] = {
		"call", "ret", "syscall", "sysenter", "int", "int3", "into", "int1", "ud0", "ud1",
		"ud2", "hlt", "rdtsc", "rdtscp", "cpuid", "push", "pop", "pushfq", "popfq",
		"leave", "enter", "xbegin", "xend", "xabort", "rdrand", "rdseed", "xgetbv",
	};
	size_t i;

	if (in->mnemonic[0] == 'j' || !strncmp(in->mnemonic, "loop", 4) ||
	    !strncmp(in->mnemonic, "rep", 3))
		return 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!strcmp(in->mnemonic, bad[i]))
			return 0;
	/* Memory operands may fault (Go's nil checks fault on purpose): a
	 * fault in a trampoline is put back at the instruction's own
	 * address before the signal goes on (count_fault_pc). */
	return 1;
}

static int rel_jump(const cs_insn *in, uint64_t *to)
{
	if (in->mnemonic[0] != 'j' || strncmp(in->op_str, "0x", 2) || !strcmp(in->mnemonic, "jrcxz") ||
	    !strcmp(in->mnemonic, "jecxz"))
		return 0;
	*to = strtoull(in->op_str, NULL, 16);
	return 1;
}

/* Whether [from, to) holds one of the sorted pcs. */
static int holds_any(const uint64_t *pcs, size_t n, uint64_t from, uint64_t to)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (pcs[mid] < from)
			a = mid + 1;
		else
			b = mid;
	}
	return a < n && pcs[a] < to;
}

static int cmp_site(const void *a, const void *b)
{
	const struct count_site *x = a, *y = b;

	return x->win < y->win ? -1 : x->win > y->win;
}

static void add_site(struct count_site **v, size_t *n, size_t *alloc, uint64_t win, uint64_t end)
{
	if (*n == *alloc) {
		*alloc = *alloc ? 2 * *alloc : 1024;
		*v = xrealloc(*v, *alloc * sizeof(**v));
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].win = win;
	(*v)[(*n)++].len = (uint32_t)(end - win);
}

/* The windows of one function (insn: its ni instructions): for each back
 * edge, whole instructions ending with it, at least 5 bytes, else from the
 * loop's head on; a branch may lead only to a window's first instruction. */
static void function_windows(const cs_insn *insn, size_t ni, uint64_t entry, uint64_t end,
			     const uint64_t *skip, size_t nskip,
			     struct count_site **v, size_t *n, size_t *alloc)
{
	uint64_t *targets = xmalloc((ni + 1) * sizeof(*targets)), to;
	size_t nt = 0, j, k, start;

	for (j = 0; j < ni; j++) {
		if (insn[j].mnemonic[0] == 'j' && strncmp(insn[j].op_str, "0x", 2))
			goto out;	/* an indirect jump: a jump table's targets are unknown */
		if ((insn[j].mnemonic[0] == 'j' || !strcmp(insn[j].mnemonic, "call")) &&
		    !strncmp(insn[j].op_str, "0x", 2)) {
			to = strtoull(insn[j].op_str, NULL, 16);
			if (to >= entry && to < end)
				targets[nt++] = to;
		}
	}
	qsort(targets, nt, sizeof(*targets), cmp_u64);
	for (j = 0; j < ni; j++) {
		uint64_t size;

		if (!rel_jump(&insn[j], &to) || to > insn[j].address || to < entry)
			continue;
		/* Ending with the back edge. */
		size = insn[j].size;
		for (k = j; size < 5 && k > 0; k--) {
			if (insn[k - 1].address + insn[k - 1].size != insn[k].address ||
			    holds_any(targets, nt, insn[k].address, insn[k].address + 1) || !window_safe(&insn[k - 1]))
				break;
			size += insn[k - 1].size;
		}
		if (size >= 5 && !holds_any(skip, nskip, insn[k].address, insn[j].address + insn[j].size)) {
			add_site(v, n, alloc, insn[k].address, insn[j].address + insn[j].size);
			continue;
		}
		/* From the loop's head on: every lap that comes back by this
		 * edge runs the straight line from there to the first jump
		 * (calls on the way return), so a window anywhere on it
		 * counts each lap.  The first run of 5 bytes of movable
		 * instructions with no branch target after its first one (a
		 * target only starts a window: tests/progs/pollexit.go's
		 * select loop, whose head's second instruction is the loop's
		 * entry). */
		for (k = 0; k < ni && insn[k].address != to; k++)
			;
		for (size = 0, start = k; k < ni; k++) {
			uint64_t dummy;

			if (k > start && insn[k - 1].address + insn[k - 1].size != insn[k].address)
				break;
			if (holds_any(targets, nt, insn[k].address, insn[k].address + 1) && k > start) {
				start = k;
				size = 0;
			}
			if (insn[k].mnemonic[0] == 'j') {
				if (rel_jump(&insn[k], &dummy) && size + insn[k].size >= 5 &&
				    !holds_any(skip, nskip, insn[start].address, insn[k].address + insn[k].size)) {
					add_site(v, n, alloc, insn[start].address, insn[k].address + insn[k].size);
					size = 0;
				}
				break;
			}
			if (!window_safe(&insn[k]) ||
			    holds_any(skip, nskip, insn[k].address, insn[k].address + insn[k].size)) {
				/* Not in a window; the line goes on past a call. */
				if (strcmp(insn[k].mnemonic, "call"))
					break;
				start = k + 1;
				size = 0;
				continue;
			}
			size += insn[k].size;
			if (size >= 5) {
				add_site(v, n, alloc, insn[start].address, insn[k].address + insn[k].size);
				break;
			}
		}
	}
out:
	free(targets);
}

/* The windows of every function of the binary, sorted, none overlapping. */
static void find_windows(struct session *s, const uint64_t *skip, size_t nskip,
			 struct count_site **out, size_t *nout)
{
	const struct gobin *b = &s->bin;
	struct count_site *v = NULL;
	size_t n = 0, alloc = 0, i, k;
	const unsigned char *code;

	for (i = 0; i < b->nfunc; i++) {
		uint64_t entry, next;
		cs_insn *insn = NULL;
		size_t len, ni;

		if (!gobin_func_range(b, i, &entry, &next) || next - entry > FUNC_MAX)
			continue;
		len = (size_t)(next - entry);
		if (!(code = gobin_vaddr_ptr(b, entry, len)))
			continue;
		ni = cs_disasm(s->cs, code, len, entry, 0, &insn);
		function_windows(insn, ni, entry, next, skip, nskip, &v, &n, &alloc);
		cs_free(insn, ni);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_site);
	for (i = 0, k = 0; i < n; i++)
		if (!k || v[k - 1].win + v[k - 1].len <= v[i].win)
			v[k++] = v[i];
	*out = v;
	*nout = k;
}

static void put32(unsigned char *p, int64_t v)
{
	int32_t x = (int32_t)v;

	memcpy(p, &x, 4);
}

/* A trampoline's offset from which its pass is in the counter: after
 * mov [save], rcx; mov rcx, [ctr]; lea rcx, [rcx-1]; mov [ctr], rcx
 * (emit_site), at the jrcxz. */
#define COUNTED_AT (7 + 7 + 4 + 7)

/* mov [rip+slot], rcx (store) or mov rcx, [rip+slot] at buf[at], which
 * lands at addr. */
static size_t mov_rcx(unsigned char *buf, size_t at, uint64_t addr, int store, uint64_t slot)
{
	buf[at] = 0x48;
	buf[at + 1] = store ? 0x89 : 0x8b;
	buf[at + 2] = 0x0d;
	put32(buf + at + 3, (int64_t)(slot - (addr + 7)));
	return 7;
}

/* Site v's trampoline into buf at off (landing at code + off); its
 * length, or 0 when it cannot be made. */
static size_t emit_site(struct session *s, struct count_site *v, const unsigned char *orig,
			unsigned char *buf, size_t cap, uint64_t code, uint64_t data, size_t off)
{
	unsigned char body[256];
	size_t at = off, jr;
	int blen;

	if (cap - off < 64 + sizeof(body))
		return 0;
	v->off = (uint32_t)off;
	at += mov_rcx(buf, at, code + at, 1, data + SAVE_OFF);
	at += mov_rcx(buf, at, code + at, 0, data + CTR_OFF);
	memcpy(buf + at, "\x48\x8d\x49\xff", 4);	/* lea rcx, [rcx-1] */
	at += 4;
	at += mov_rcx(buf, at, code + at, 1, data + CTR_OFF);
	jr = at;
	if (jr - off != COUNTED_AT)
		return 0;	/* count_leave's reading of the layout */
	buf[at] = 0xe3;					/* jrcxz trap */
	at += 2;
	at += mov_rcx(buf, at, code + at, 0, data + SAVE_OFF);
	v->body = (uint32_t)at;
	blen = condbp_relocate(s, body, sizeof(body), code + at, v->win, orig, v->len);
	if (blen <= 0 || blen > BODY_MAX)
		return 0;
	memcpy(buf + at, body, (size_t)blen);
	at += (size_t)blen;
	v->trap = (uint32_t)at;
	buf[jr + 1] = (unsigned char)(at - (jr + 2));
	at += mov_rcx(buf, at, code + at, 0, data + SAVE_OFF);
	buf[at++] = 0xcc;
	/* Never reached: gorr puts a trapped thread back at the window. */
	buf[at] = 0xe9;
	put32(buf + at + 1, (int64_t)((code + v->body) - (code + at + 5)));
	at += 5;
	v->end = (uint32_t)at;
	return at - off;
}

/* The trampolines made for a binary at a page, kept in gorr's cache by
 * the binary's digest (gobin_cache_name, as the decision points are):
 * capstone over every function and the relocation of each window were
 * 20 ms of a hunt run's 40.  The file: a header, the sites, the code. */
#define COUNT_CACHE_MAGIC "gorrcnt2"

struct count_file {
	char magic[8];
	uint64_t page, n, used;
};

static int code_load(const struct gobin *b, uint64_t page, struct count_site **v, size_t *n,
		     unsigned char **code, size_t *used)
{
	struct sbuf name = SBUF_INIT, data = SBUF_INIT;
	struct count_file h;
	int err = gobin_cache_name(b, "count", &name);

	if (!err)
		err = cache_read_all(name.buf, &data);
	if (!err && (data.len < sizeof(h) || (memcpy(&h, data.buf, sizeof(h)), 0) ||
		     memcmp(h.magic, COUNT_CACHE_MAGIC, 8) || h.page != page || !h.n ||
		     h.n > data.len / sizeof(**v) ||
		     data.len != sizeof(h) + h.n * sizeof(**v) + h.used))
		err = -EPROTO;
	if (!err) {
		*n = (size_t)h.n;
		*used = (size_t)h.used;
		*v = xmalloc(*n * sizeof(**v));
		memcpy(*v, data.buf + sizeof(h), *n * sizeof(**v));
		*code = xmalloc(*used + 1);
		memcpy(*code, data.buf + sizeof(h) + *n * sizeof(**v), *used);
	}
	sbuf_release(&data);
	sbuf_release(&name);
	return err;
}

static void code_store(const struct gobin *b, uint64_t page, const struct count_site *v, size_t n,
		       const unsigned char *code, size_t used)
{
	struct sbuf name = SBUF_INIT, data = SBUF_INIT;
	struct count_file h;

	if (gobin_cache_name(b, "count", &name) == 0) {
		memset(&h, 0, sizeof(h));
		memcpy(h.magic, COUNT_CACHE_MAGIC, 8);
		h.page = page;
		h.n = n;
		h.used = used;
		sbuf_add(&data, &h, sizeof(h));
		sbuf_add(&data, v, n * sizeof(*v));
		sbuf_add(&data, code, used);
		cache_write(name.buf, data.buf, data.len);
	}
	sbuf_release(&data);
	sbuf_release(&name);
}

/* Every window's trampoline for the pages at page (the data page, then
 * the code): the sites that have one, compacted, and the code. */
static int build_code(struct session *s, uint64_t page, const uint64_t *skip, size_t nskip,
		      struct count_site **out, size_t *nout, unsigned char **code_out, size_t *used_out)
{
	struct count_site *v = NULL;
	const unsigned char *file;
	unsigned char *code;
	size_t n = 0, i, k, cap = (COUNT_PAGES_MAX - 1) * PAGE, used = 0;
	uint64_t lo, hi;

	find_windows(s, skip, nskip, &v, &n);
	if (!n) {
		free(v);
		return -ENOTSUP;
	}
	lo = v[0].win;
	hi = v[n - 1].win + v[n - 1].len;
	if (!(file = gobin_vaddr_ptr(&s->bin, lo, (size_t)(hi - lo)))) {
		free(v);
		return -ENOTSUP;
	}
	code = xmalloc(cap);
	memset(code, 0xcc, cap);
	for (i = 0, k = 0; i < n; i++) {
		size_t len = emit_site(s, &v[i], file + (v[i].win - lo), code, cap, page + PAGE, page, used);

		if (len) {
			used += len;
			v[k++] = v[i];
		}
	}
	if (!k) {
		free(v);
		free(code);
		return -ENOTSUP;
	}
	*out = v;
	*nout = k;
	*code_out = code;
	*used_out = used;
	return 0;
}

/* The data page at page, private and anonymous so far, becomes a page
 * of a memfd that gorr maps as well: the counter is then read and set
 * with a load and a store instead of a process_vm_readv or writev
 * each, at every stop and every slice's start (of http's 4,600 stops
 * under record, 7,500 more reads).  The program opens gorr's fd through
 * /proc (a path written into the page), maps it over the page (the
 * same bytes, gorr copied them first) and closes it: its fd table is as
 * before.  A child forked without exec would share the counter; Go
 * forks only with CLONE_VM (vfork, syscall/exec_linux.go), whose child
 * shares the page anyway.  Returns the mapping or NULL (the old way). */
static volatile uint64_t *share_data(struct session *s, struct thread *t, uint64_t pc, uint64_t page)
{
	char path[64];
	void *p = MAP_FAILED;
	uint64_t a[6];
	int64_t tfd = -1, ret;
	int fd;

	fd = (int)syscall(SYS_memfd_create, "gorr-count", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)PAGE) ||
	    (p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED ||
	    mem_read(t->tid, page, p, PAGE))
		goto fail;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), fd);
	if (bp_code_write(s, t, page + 64, path, strlen(path) + 1))
		goto fail;
	a[0] = (uint64_t)AT_FDCWD;
	a[1] = page + 64;
	a[2] = O_RDWR | O_CLOEXEC;
	a[3] = a[4] = a[5] = 0;
	if (bp_inject_syscall(s, t, pc, SYS_openat, a, &tfd) || tfd < 0)
		goto fail;
	a[0] = page;
	a[1] = PAGE;
	a[2] = PROT_READ | PROT_WRITE;
	a[3] = MAP_SHARED | MAP_FIXED;
	a[4] = (uint64_t)tfd;
	a[5] = 0;
	if (bp_inject_syscall(s, t, pc, SYS_mmap, a, &ret) || (uint64_t)ret != page) {
		/* MAP_FIXED failed: the page is as it was. */
		a[0] = (uint64_t)tfd;
		bp_inject_syscall(s, t, pc, SYS_close, a, &ret);
		goto fail;
	}
	a[0] = (uint64_t)tfd;
	a[1] = 0;
	bp_inject_syscall(s, t, pc, SYS_close, a, &ret);
	close(fd);
	return p;
fail:
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	close(fd);
	return NULL;
}

int count_install(struct session *s, struct thread *t, const uint64_t *skip, size_t nskip)
{
	struct user_regs_struct regs;
	struct count_state *st = NULL;
	struct count_site *v = NULL;
	unsigned char *text = NULL, *code = NULL;
	const unsigned char *file;
	uint64_t lo, hi, page;
	size_t n = 0, i, used = 0, patched = 0;
	unsigned char *on = NULL;
	int err;

	if (s->count || !s->have_bin || !s->bin.is_go || !s->bin.pcln || !s->cs_open ||
	    !s->cs_detail_open)
		return -ENOTSUP;
	/* Position-independent executables load elsewhere than their
	 * file's addresses (e_type ET_DYN, elf.h). */
	if (!s->bin.file || s->bin.file_size < 18 || (s->bin.file[16] | s->bin.file[17] << 8) != 2)
		return -ENOTSUP;
	if (pt_getregs(t->tid, &regs))
		return -ESRCH;
	/* The pages first: the code's jumps depend on where it lies (for a
	 * binary at its file's addresses, the same place every run). */
	if ((err = condbp_near_page(s, t, regs.rip, s->bin.text_start, count_sig, COUNT_PAGES_MAX, &page)))
		return err;
	if (code_load(&s->bin, page, &v, &n, &code, &used)) {
		if ((err = build_code(s, page, skip, nskip, &v, &n, &code, &used)))
			return err;
		code_store(&s->bin, page, v, n, code, used);
	}
	lo = v[0].win;
	hi = v[n - 1].win + v[n - 1].len;
	text = xmalloc((size_t)(hi - lo));
	on = xcalloc(n, 1);
	err = -EFAULT;
	if (mem_read(t->tid, lo, text, (size_t)(hi - lo)) ||
	    !(file = gobin_vaddr_ptr(&s->bin, lo, (size_t)(hi - lo))))
		goto out;
	/* The JMPs, where the code is as in the file (not a decision
	 * point's INT3, not a patched rdtsc) and no skip pc lies; the rest
	 * of each window is INT3s, which nothing reaches (no branch leads
	 * inside a window).  A site left out keeps its trampoline, unused. */
	for (i = 0; i < n; i++) {
		unsigned char *p = text + (v[i].win - lo);

		if (memcmp(p, file + (v[i].win - lo), v[i].len) ||
		    holds_any(skip, nskip, v[i].win, v[i].win + v[i].len))
			continue;
		p[0] = 0xe9;
		put32(p + 1, (int64_t)((page + PAGE + v[i].off) - (v[i].win + 5)));
		memset(p + 5, 0xcc, v[i].len - 5);
		on[i] = 1;
		patched++;
	}
	if (!patched) {
		err = -ENOTSUP;
		goto out;
	}
	if ((err = bp_code_write(s, t, page + PAGE, code, used)) ||
	    (err = bp_code_write(s, t, lo, text, (size_t)(hi - lo))))
		goto out;
	st = xcalloc(1, sizeof(*st));
	st->shared = share_data(s, t, regs.rip, page);
	st->tgid = t->tgid;
	st->data = page;
	st->code = page + PAGE;
	st->code_len = used;
	st->v = v;
	st->n = n;
	st->on = on;
	v = NULL;
	on = NULL;
	s->count = st;
	err = 0;
out:
	free(v);
	free(on);
	free(text);
	free(code);
	return err;
}

uint64_t count_window_start(const struct session *s, uint64_t pc)
{
	const struct count_state *st = s->count;
	size_t lo = 0, hi;

	if (!st)
		return 0;
	hi = st->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->v[mid].win + st->v[mid].len <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st->n && st->on[lo] && st->v[lo].win < pc ? st->v[lo].win : 0;
}

int count_active(const struct session *s, const struct thread *t)
{
	return s->count && s->count->tgid == t->tgid;
}

static int write_counter(struct session *s, struct thread *t, uint64_t c)
{
	if (s->count->shared) {
		s->count->shared[CTR_OFF / 8] = c;
		return 0;
	}
	return mem_write(t->tid, s->count->data + CTR_OFF, &c, sizeof(c));
}

int count_arm(struct session *s, struct thread *t, uint64_t laps)
{
	int err;

	if (!count_active(s, t))
		return -ENOTSUP;
	/* Passes not looked at yet are the last runner's: t's, when the
	 * scheduler arms it at a stop of t's. */
	count_note_stop(s, t);
	if ((err = write_counter(s, t, laps)))
		return err;
	s->count->last = laps;
	return 0;
}

static int read_counter(struct session *s, struct thread *t, uint64_t *c)
{
	if (s->count->shared) {
		*c = s->count->shared[CTR_OFF / 8];
		return 0;
	}
	return mem_read(t->tid, s->count->data + CTR_OFF, c, sizeof(*c));
}

void count_note_stop(struct session *s, struct thread *t)
{
	uint64_t c;

	/* Only the thread with the CPU counts: another one stopping (a
	 * call that gave the CPU up returning) ran no lap meanwhile. */
	if (!count_active(s, t) || t != s->running || read_counter(s, t, &c))
		return;
	t->count_laps += s->count->last - c;	/* mod 2^64: it counts down */
	s->count->last = c;
}

void count_note_event(struct session *s, struct thread *t)
{
	if (!t || !count_active(s, t))
		return;
	/* The passes since the last look are the runner's, which may be
	 * another thread, running on while gorr writes t's event (a call
	 * of t's that gave the CPU up returning): they stay its own. */
	if (s->running)
		count_note_stop(s, s->running);
	t->count_laps = 0;
}

int count_holds(const struct session *s, uint64_t pc)
{
	return s->count && pc >= s->count->code && pc < s->count->code + s->count->code_len;
}

/* The site whose trampoline holds pc. */
static struct count_site *site_at(const struct session *s, uint64_t pc)
{
	const struct count_state *st = s->count;
	size_t lo = 0, hi = st->n;
	uint64_t off = pc - st->code;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->v[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st->n && st->v[lo].off <= off ? &st->v[lo] : NULL;
}

uint64_t count_trapped(struct session *s, struct thread *t, uint64_t trap,
		       struct user_regs_struct *regs)
{
	struct count_site *v;

	(void)t;
	if (!count_holds(s, trap) || !(v = site_at(s, trap)) || trap != s->count->code + v->trap + 7)
		return 0;
	regs->rip = v->win;
	return v->win;
}

/* t's pass, stored in the counter, is taken back (count_leave): the
 * counter one up, and the pass off t's laps when the stop credited it
 * (count_note_stop, which left last at the counter's value). */
static int uncount(struct session *s, struct thread *t)
{
	uint64_t c;
	int err;

	if ((err = read_counter(s, t, &c)))
		return err;
	c++;
	if ((err = write_counter(s, t, c)))
		return err;
	if (s->count->last == c - 1) {
		s->count->last = c;
		if (t == s->running && t->count_laps)
			t->count_laps--;
	}
	return 0;
}

int count_leave(struct session *s, struct thread *t, struct user_regs_struct *regs, int *other)
{
	struct count_site *v;
	uint64_t off, rcx;
	int k, err;

	*other = 0;
	if (!count_holds(s, regs->rip) || !(v = site_at(s, regs->rip)))
		return 0;
	off = regs->rip - s->count->code;
	/* Before the displaced instructions, or in the trap stub: nothing
	 * of the program's has run yet, back to the window's start with
	 * RCX from its slot (at the first instruction it is RCX still). */
	if (off < v->body || off >= v->trap) {
		/* Past the counter's store, the window's JMP would count this
		 * pass a second time, which a run without this stop does not
		 * (replay has no interrupts: under record, where they end
		 * slices, replay stopped one lap early, "with other
		 * registers"): it comes off again.  A counter at 0 (the trap
		 * stub, or the jrcxz about to take it) is 1 again, and the
		 * JMP brings it to the trap. */
		if (off >= v->off + COUNTED_AT && (err = uncount(s, t)))
			return err;
		if (off != v->off) {
			if ((err = mem_read(t->tid, s->count->data + SAVE_OFF, &rcx, sizeof(rcx))))
				return err;
			regs->rcx = rcx;
		}
		regs->rip = v->win;
		return thread_setregs(t, regs);
	}
	/* In them: on until the JMP back (or the window's own jump) has
	 * left. */
	for (k = 0; k < LEAVE_STEPS && count_holds(s, regs->rip); k++)
		if ((err = thread_step(t, regs, other)))
			return err;
	return count_holds(s, regs->rip) ? -ELOOP : 0;
}

int count_fault_pc(struct session *s, struct thread *t, struct user_regs_struct *regs)
{
	const struct count_site *v;
	unsigned char orig[64], body[256];
	const uint8_t *po = orig, *pb = body;
	size_t lo = 0, lb = 0, blen;
	uint64_t ao, ab;
	cs_insn *io, *ib;
	int found = 0;

	if (!count_holds(s, regs->rip) || !(v = site_at(s, regs->rip)) ||
	    regs->rip < s->count->code + v->body || regs->rip >= s->count->code + v->trap ||
	    v->len > sizeof(orig) || (blen = v->trap - v->body) > sizeof(body) ||
	    gobin_read_vaddr(&s->bin, v->win, orig, v->len) ||
	    mem_read(t->tid, s->count->code + v->body, body, blen))
		return 0;
	/* The displaced instructions, one for one with their copies (the
	 * copies differ only in RIP-relative displacements and a last
	 * jump's width): the copy rip is at stands for the original. */
	lo = v->len;
	lb = blen;
	ao = v->win;
	ab = s->count->code + v->body;
	io = cs_malloc(s->cs_detail);
	ib = cs_malloc(s->cs_detail);
	while (lo && lb) {
		uint64_t at_o = ao, at_b = ab;

		if (!cs_disasm_iter(s->cs_detail, &po, &lo, &ao, io) ||
		    !cs_disasm_iter(s->cs_detail, &pb, &lb, &ab, ib))
			break;
		if (at_b == regs->rip) {
			regs->rip = at_o;
			found = 1;
			break;
		}
	}
	cs_free(io, 1);
	cs_free(ib, 1);
	return found && thread_setregs(t, regs) == 0;
}

void count_release(struct session *s)
{
	if (!s->count)
		return;
	if (s->count->shared)
		munmap((void *)s->count->shared, PAGE);
	free(s->count->v);
	free(s->count->on);
	free(s->count);
	s->count = NULL;
}
