#define _GNU_SOURCE
#include "harness/go/goroutines.h"
#include "harness/base/sha256.h"
#include "harness/go/backtrace.h"
#include "harness/go/goruntime_tables.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A structure's member offsets, by name, from its DWARF DIE. */
struct member_want {
	const char *name;
	uint32_t *off;
	int *found;
};

static void read_members(Dwarf_Die *type, struct member_want *w, size_t nw)
{
	Dwarf_Die m;

	if (dwarf_child(type, &m) != 0)
		return;
	do {
		Dwarf_Attribute attr;
		Dwarf_Word off;
		const char *name;
		size_t i;

		if (dwarf_tag(&m) != DW_TAG_member || !(name = dwarf_diename(&m)) ||
		    !dwarf_attr(&m, DW_AT_data_member_location, &attr) || dwarf_formudata(&attr, &off))
			continue;
		for (i = 0; i < nw; i++)
			if (!strcmp(name, w[i].name)) {
				*w[i].off = (uint32_t)off;
				(*w[i].found)++;
			}
	} while (dwarf_siblingof(&m, &m) == 0);
}

/* The offsets from the binary's DWARF: Go's linker writes each runtime
 * type once, as a top-level DIE of some compile unit.  libdw reads the
 * zlib-compressed sections (SHF_COMPRESSED) itself.  0, -ENOENT when the
 * binary has no DWARF, -EINVAL when a field is missing. */
static int layout_from_dwarf(const char *path, struct go_layout *L, struct sbuf *why)
{
	int fg = 0, fgobuf = 0, fm = 0, err = 0;
	struct member_want gw[] = {
		{ "m", &L->g_m, &fg }, { "sched", &L->g_sched, &fg },
		{ "syscallsp", &L->g_syscallsp, &fg }, { "syscallpc", &L->g_syscallpc, &fg },
		{ "atomicstatus", &L->g_atomicstatus, &fg }, { "goid", &L->g_goid, &fg },
		{ "waitsince", &L->g_waitsince, &fg }, { "waitreason", &L->g_waitreason, &fg },
		{ "gopc", &L->g_gopc, &fg }, { "startpc", &L->g_startpc, &fg },
		{ "stackguard0", &L->g_stackguard0, &fg }, { "preempt", &L->g_preempt, &fg },
	};
	int fparent = 0, ftrack = 0;
	struct member_want pw[] = { { "parentGoid", &L->g_parentgoid, &fparent },
				    { "trackingSeq", &L->g_trackingseq, &ftrack } };
	struct member_want bw[] = {
		{ "sp", &L->gobuf_sp, &fgobuf }, { "pc", &L->gobuf_pc, &fgobuf },
		{ "bp", &L->gobuf_bp, &fgobuf },
	};
	struct member_want mw[] = { { "procid", &L->m_procid, &fm } };
	uint32_t p_timers = 0, t_len = 0, t_zombies = 0;
	int fp = 0, ft = 0, fp19 = 0;
	struct member_want ppw[] = { { "timers", &p_timers, &fp },
				     { "numTimers", &L->p_ntimers, &fp19 },
				     { "deletedTimers", &L->p_dead_timers, &fp19 } };
	struct member_want tw[] = { { "len", &t_len, &ft }, { "zombies", &t_zombies, &ft } };
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		return -ENOENT;
	}
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0 &&
	       (!fg || !fgobuf || !fm || !fp || (!ft && fp19 != 2))) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &d) == 0) {
			do {
				const char *name;

				if (dwarf_tag(&d) != DW_TAG_structure_type || !(name = dwarf_diename(&d)))
					continue;
				if (!strcmp(name, "runtime.g") && !fg) {
					read_members(&d, gw, sizeof(gw) / sizeof(gw[0]));
					read_members(&d, pw, sizeof(pw) / sizeof(pw[0]));
				} else if (!strcmp(name, "runtime.gobuf") && !fgobuf) {
					read_members(&d, bw, sizeof(bw) / sizeof(bw[0]));
				} else if (!strcmp(name, "runtime.m") && !fm) {
					read_members(&d, mw, 1);
				} else if (!strcmp(name, "runtime.p") && !fp) {
					read_members(&d, ppw, sizeof(ppw) / sizeof(ppw[0]));
				} else if (!strcmp(name, "runtime.timers") && !ft) {
					read_members(&d, tw, 2);
				}
			} while (dwarf_siblingof(&d, &d) == 0);
		}
		off = next;
	}
	if (fg != (int)(sizeof(gw) / sizeof(gw[0])) || fgobuf != 3 || fm != 1) {
		sbuf_addf(why, "the DWARF of '%s' lacks fields of runtime.g, gobuf or m", path);
		err = fg || fgobuf || fm ? -EINVAL : -ENOENT;
	}
	L->has_parentgoid = fparent == 1;
	L->has_trackingseq = ftrack == 1;
	L->source = "DWARF";
	if (fp == 1 && fp19 == 2) {
		L->has_timers = 1;	/* Go 1.14 to 1.22 */
	} else if (fp == 1 && ft == 2) {
		L->p_ntimers = p_timers + t_len;	/* Go 1.23 and later */
		L->p_dead_timers = p_timers + t_zombies;
		L->has_timers = 1;
	}
	dwarf_end(dw);
	close(fd);
	return err;
}

/* The layout read from a binary's DWARF, kept in gorr's cache (util.h
 * cache_read_all) in a file named by the binary's digest
 * (session.exe_digest): libdw decompresses every debug section of a Go
 * binary (zlib), 40 of the 60 ms a `gorr run` of a 4.5 MB test binary
 * took, and a hunt starts one run per seed on the same binary.  The
 * name carries gorr's build ID too (gobin_cache_name): another gorr reads
 * the DWARF again.  A file of another size or magic is ignored and
 * written again. */
#define LAYOUT_CACHE_MAGIC "gorrlay2"

struct layout_file {
	char magic[8];
	uint32_t size;		/* sizeof(struct go_layout) */
	uint32_t pad;
	struct go_layout L;	/* its pointers 0 */
};

static int layout_cache_load(const struct session *s, struct go_layout *L)
{
	struct sbuf name = SBUF_INIT, data = SBUF_INIT;
	struct layout_file f;
	int err = gobin_cache_name(&s->bin, "layout", &name);

	if (!err)
		err = cache_read_all(name.buf, &data);
	if (!err && data.len == sizeof(f))
		memcpy(&f, data.buf, sizeof(f));
	else
		err = -ENOENT;
	sbuf_release(&data);
	sbuf_release(&name);
	if (err || memcmp(f.magic, LAYOUT_CACHE_MAGIC, 8) || f.size != sizeof(f.L))
		return -ENOENT;
	*L = f.L;
	L->source = "DWARF";
	L->reason_table = NULL;
	return 0;
}

static void layout_cache_store(const struct session *s, const struct go_layout *L)
{
	struct sbuf name = SBUF_INIT;
	struct layout_file f;

	if (gobin_cache_name(&s->bin, "layout", &name) == 0) {
		memset(&f, 0, sizeof(f));
		memcpy(f.magic, LAYOUT_CACHE_MAGIC, 8);
		f.size = sizeof(f.L);
		f.L = *L;
		f.L.source = NULL;
		f.L.reason_table = NULL;
		cache_write(name.buf, &f, sizeof(f));
	}
	sbuf_release(&name);
}

/* Without DWARF: the offsets measured from the DWARF of builds of the
 * same Go release (harness/go/goruntime_tables.h). */
static int layout_from_table(const struct gobin *b, struct go_layout *L, struct sbuf *why)
{
	size_t i;

	for (i = 0; i < sizeof(go_layouts) / sizeof(go_layouts[0]); i++) {
		size_t n = strlen(go_layouts[i].release);

		/* "go1.26" matches "go1.26.8" but not "go1.260". */
		if (!strncmp(b->go_version, go_layouts[i].release, n) &&
		    (b->go_version[n] == '.' || b->go_version[n] == '\0')) {
			*L = go_layouts[i].layout;
			L->source = go_layouts[i].release;
			return 0;
		}
	}
	sbuf_addf(why, "'%s' has no DWARF (built with -ldflags=-w?) and gorr knows the runtime's "
		  "layout without DWARF only for", b->path);
	for (i = 0; i < sizeof(go_layouts) / sizeof(go_layouts[0]); i++)
		sbuf_addf(why, "%s %s", i ? "," : "", go_layouts[i].release);
	sbuf_addf(why, " (this is %s)", b->go_version[0] ? b->go_version : "an unknown version");
	return -ENOTSUP;
}

/* runtime.allgs in a binary without .symtab: runtime.allgadd appends to
 * it, loading its pointer, length and capacity through RIP-relative
 * operands X, X+8 and X+16 (Go 1.19 and 1.26 alike). */
uint64_t goroutines_allgs_from_code(struct session *s)
{
	uint64_t fn = gobin_func_entry(&s->bin, "runtime.allgadd");
	uint64_t addrs[64], found = 0;
	unsigned char code[1024];
	size_t n, i, j, k, na = 0;
	cs_insn *insn = NULL;

	if (!fn || !s->cs_open || gobin_read_vaddr(&s->bin, fn, code, sizeof(code)))
		return 0;
	n = cs_disasm(s->cs, code, sizeof(code), fn, 0, &insn);
	for (i = 0; i < n && na < 64; i++) {
		const char *rip = strstr(insn[i].op_str, "qword ptr [rip ");
		unsigned long long d;
		char sign;

		if (strcmp(insn[i].mnemonic, "mov") || !rip ||
		    sscanf(rip + 15, "%c 0x%llx]", &sign, &d) != 2)
			continue;
		addrs[na++] = insn[i].address + insn[i].size + (sign == '-' ? -(uint64_t)d : d);
	}
	cs_free(insn, n);
	for (i = 0; i < na; i++) {
		int has8 = 0, has16 = 0;

		for (j = 0; j < na; j++)
			has8 |= addrs[j] == addrs[i] + 8;
		for (k = 0; k < na; k++)
			has16 |= addrs[k] == addrs[i] + 16;
		if (has8 && has16 && (!found || addrs[i] < found))
			found = addrs[i];
	}
	return found;
}

const struct go_layout *goroutines_layout(struct session *s, struct sbuf *why)
{
	struct go_layout L;
	const struct gobin_sym *sym;
	int err;

	if (s->layout_done) {
		if (!s->layout)
			sbuf_adds(why, s->layout_err);
		return s->layout;
	}
	s->layout_done = 1;
	memset(&L, 0, sizeof(L));
	if (!s->have_bin || !s->bin.is_go) {
		snprintf(s->layout_err, sizeof(s->layout_err), "'%s' is not a Go program", s->exe);
		sbuf_adds(why, s->layout_err);
		return NULL;
	}
	{
		struct sbuf w = SBUF_INIT;

		err = layout_cache_load(s, &L);
		if (err) {
			memset(&L, 0, sizeof(L));
			err = layout_from_dwarf(s->bin.path, &L, &w);
			if (!err)
				layout_cache_store(s, &L);
		}
		if (err == -ENOENT) {
			sbuf_reset(&w);
			memset(&L, 0, sizeof(L));
			err = layout_from_table(&s->bin, &L, &w);
		}
		if (err) {
			snprintf(s->layout_err, sizeof(s->layout_err), "%s", w.buf);
			sbuf_release(&w);
			sbuf_adds(why, s->layout_err);
			return NULL;
		}
		sbuf_release(&w);
	}
	sym = gobin_symbol(&s->bin, "runtime.allgs");
	L.allgs = sym ? sym->addr : goroutines_allgs_from_code(s);
	sym = gobin_symbol(&s->bin, "runtime.allp");
	L.allp = sym ? sym->addr : 0;
	L.has_timers = L.has_timers && L.allp;
	sym = gobin_symbol(&s->bin, "runtime.waitReasonStrings");
	if (sym && sym->size >= 16) {
		L.waitreasons = sym->addr;
		L.nwaitreasons = sym->size / 16;
	} else {
		L.reason_table = go_wait_reasons(s->bin.go_version, &L.nwaitreasons);
	}
	if (!L.allgs) {
		snprintf(s->layout_err, sizeof(s->layout_err),
			 "cannot find runtime.allgs in '%s'", s->exe);
		sbuf_adds(why, s->layout_err);
		return NULL;
	}
	/* Read each g up to its last field used. */
	L.g_size = L.g_startpc + 8;
	if (L.g_parentgoid + 8 > L.g_size && L.has_parentgoid)
		L.g_size = L.g_parentgoid + 8;
	if (L.g_gopc + 8 > L.g_size)
		L.g_size = L.g_gopc + 8;
	if (L.g_waitreason + 1 > L.g_size)
		L.g_size = L.g_waitreason + 1;
	s->layout = xmalloc(sizeof(L));
	*s->layout = L;
	return s->layout;
}

static uint64_t u64(const unsigned char *p, uint32_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static const char *const status_names[] = {
	[G_IDLE] = "idle", [G_RUNNABLE] = "runnable", [G_RUNNING] = "running",
	[G_SYSCALL] = "syscall", [G_WAITING] = "waiting", [G_DEAD] = "dead",
	[G_COPYSTACK] = "copystack", [G_PREEMPTED] = "preempted",
};

/* The wait reasons' texts (runtime/runtime2.go waitReason.String), read
 * from the program's runtime.waitReasonStrings once per listing. */
struct reasons {
	char text[256][48];
	unsigned char have[256];
};

static const char *wait_reason(struct thread *t, const struct go_layout *L, struct reasons *c,
			       uint8_t r)
{
	uint64_t str[2];

	if (r >= L->nwaitreasons)
		return "";
	if (L->reason_table)
		return L->reason_table[r];
	if (!c->have[r]) {
		c->have[r] = 1;
		c->text[r][0] = '\0';
		if (thread_read(t, L->waitreasons + 16 * (uint64_t)r, str, sizeof(str)) == 0 &&
		    str[1] < sizeof(c->text[r]) && thread_read(t, str[0], c->text[r], (size_t)str[1]) == 0)
			c->text[r][str[1]] = '\0';
	}
	return c->text[r];
}

/* runtime/traceback.go isSystemGoroutine: started in the runtime (but not
 * runtime.main); the finalizer goroutine counts as the user's only while
 * it runs a finalizer, which a dump at a stop does not need to tell. */
static int is_system(struct session *s, uint64_t startpc)
{
	struct gobin_loc loc;

	if (gobin_pc_lookup(&s->bin, startpc, &loc))
		return 0;
	return !strncmp(loc.func, "runtime.", 8) && strcmp(loc.func, "runtime.main");
}

/* A running goroutine's registers are its thread's: the thread whose
 * m.procid (its tid as the program knows it, runtime/os_linux.go: the
 * kernel's under record, gorr's virtual one under run, the recorded one
 * in replay) matches. */
static struct thread *thread_of_m(struct session *s, struct thread *t, const struct go_layout *L,
				  uint64_t m)
{
	uint64_t procid = 0;

	if (!m || thread_read(t, m + L->m_procid, &procid, 8))
		return NULL;
	return session_vthread(s, (pid_t)procid);
}

int goroutines_read(struct session *s, struct thread *t, struct goroutine **out, size_t *n,
		    struct sbuf *why)
{
	const struct go_layout *L = goroutines_layout(s, why);
	unsigned char buf[1024];
	uint64_t slice[2], *gs = NULL;
	struct goroutine *v = NULL;
	struct reasons *reasons;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if (!L)
		return -ENOTSUP;
	if (L->g_size > sizeof(buf)) {
		sbuf_adds(why, "runtime.g is larger than gorr expects");
		return -EINVAL;
	}
	if (thread_read(t, L->allgs, slice, sizeof(slice)) || slice[1] > 10000000) {
		sbuf_adds(why, "cannot read runtime.allgs");
		return -EFAULT;
	}
	if (!slice[1])
		return 0;
	gs = xmalloc(slice[1] * 8);
	if (thread_read(t, slice[0], gs, slice[1] * 8)) {
		free(gs);
		sbuf_adds(why, "cannot read runtime.allgs");
		return -EFAULT;
	}
	v = xcalloc(slice[1], sizeof(*v));
	reasons = xcalloc(1, sizeof(*reasons));
	for (i = 0; i < slice[1]; i++) {
		struct goroutine *g = &v[k];
		uint32_t status;

		if (!gs[i] || thread_read(t, gs[i], buf, L->g_size))
			continue;
		memcpy(&status, buf + L->g_atomicstatus, 4);
		status &= ~0x1000u;	/* _Gscan */
		if (status == G_DEAD || status == G_IDLE)
			continue;
		g->status = status;
		g->goid = (int64_t)u64(buf, L->g_goid);
		g->waitsince = (int64_t)u64(buf, L->g_waitsince);
		g->gopc = u64(buf, L->g_gopc);
		g->startpc = u64(buf, L->g_startpc);
		g->parent = L->has_parentgoid ? (int64_t)u64(buf, L->g_parentgoid) : 0;
		g->moves = L->has_trackingseq && L->g_trackingseq < L->g_size ? buf[L->g_trackingseq] : -1;
		g->system = is_system(s, g->startpc);
		g->pc = g->sched_pc = u64(buf, L->g_sched + L->gobuf_pc);
		g->sp = g->sched_sp = u64(buf, L->g_sched + L->gobuf_sp);
		if (status == G_SYSCALL) {
			/* runtime/traceback.go: a goroutine in a syscall
			 * unwinds from syscallpc/sp. */
			g->pc = u64(buf, L->g_syscallpc);
			g->sp = u64(buf, L->g_syscallsp);
		}
		if (status == G_RUNNING || status == G_SYSCALL) {
			struct thread *m = thread_of_m(s, t, L, u64(buf, L->g_m));
			struct user_regs_struct regs;

			g->tid = m ? m->vtid : 0;
			if (status == G_RUNNING && m && thread_getregs(m, &regs) == 0) {
				g->pc = regs.rip;
				g->sp = regs.rsp;
			}
		}
		if (status == G_WAITING) {
			snprintf(g->reason, sizeof(g->reason), "%s",
				 wait_reason(t, L, reasons, buf[L->g_waitreason]));
			g->on_m = u64(buf, L->g_m) != 0;
		}
		if (!g->reason[0])
			snprintf(g->reason, sizeof(g->reason), "%s",
				 status < sizeof(status_names) / sizeof(status_names[0]) &&
				 status_names[status] ? status_names[status] : "unknown");
		g->state = g->reason;
		k++;
	}
	free(gs);
	free(reasons);
	*out = v;
	*n = k;
	return 0;
}

/* g's stack: from where it is to be unwound, and on through
 * runtime.systemstack's switch to its own stack (a goroutine's thread
 * on the g0 stack, a goroutine waiting on its M: Go's tracebacks go on
 * there too, runtime/traceback.go).  Before, the walk read the g0
 * stack's word above systemstack as a return address and printed a
 * frame "?() pc=0xc000088b80" (issue 16). */
static int goroutine_pcs(struct session *s, struct thread *t, const struct goroutine *g,
			 uint64_t *pcs, int max)
{
	int n;

	if (g->pc == g->sched_pc && g->sp == g->sched_sp &&
	    (n = backtrace_switched(s, t, g->sched_pc, g->sched_sp, pcs, max)))
		return n;
	n = backtrace_from(s, t, g->pc, g->sp, pcs, max);
	if (g->pc != g->sched_pc && backtrace_through_switch(s, pcs, n))
		n += backtrace_switched(s, t, g->sched_pc, g->sched_sp, pcs + n, max - n);
	return n;
}

int goroutine_of_thread(struct session *s, struct thread *t, struct goroutine *out)
{
	struct sbuf why = SBUF_INIT;
	struct goroutine *gs;
	size_t n, i;
	int err = -ENOENT;

	if (!s->have_bin || !s->bin.is_go || goroutines_read(s, t, &gs, &n, &why)) {
		sbuf_release(&why);
		return -ENOENT;
	}
	for (i = 0; i < n && err; i++)
		if (gs[i].status == G_RUNNING && gs[i].tid == t->vtid) {
			*out = gs[i];
			err = 0;
		}
	free(gs);
	sbuf_release(&why);
	return err;
}

void goroutine_thread_stack(struct sbuf *sb, struct session *s, struct thread *t)
{
	uint64_t pcs[BT_MAX];
	struct goroutine g;
	int n = backtrace_pcs(s, t, pcs, BT_MAX);

	if (backtrace_through_switch(s, pcs, n) && goroutine_of_thread(s, t, &g) == 0)
		n += backtrace_switched(s, t, g.sched_pc, g.sched_sp, pcs + n, BT_MAX - n);
	backtrace_print_pcs(sb, s, pcs, n, 0);
}

void goroutine_print(struct sbuf *sb, struct session *s, struct thread *t,
		     const struct goroutine *g, int all)
{
	uint64_t pcs[BT_MAX];
	struct gobin_loc loc;
	int n;

	sbuf_addf(sb, "goroutine %" PRId64 " [%s", g->goid, g->state);
	/* As runtime/traceback.go goroutineheader: whole minutes blocked,
	 * on the program's clock (waitsince is set by the GC). */
	if (g->status == G_WAITING && g->waitsince > 0 && session_now(s) - g->waitsince >= 60000000000LL)
		sbuf_addf(sb, ", %" PRId64 " minutes", (int64_t)((session_now(s) - g->waitsince) / 60000000000LL));
	if (g->tid)
		sbuf_addf(sb, ", thread %d", (int)g->tid);
	sbuf_adds(sb, "]:\n");
	n = goroutine_pcs(s, t, g, pcs, BT_MAX);
	backtrace_print_pcs(sb, s, pcs, n, BT_GO_STYLE | (all ? 0 : BT_HIDE_RUNTIME));
	/* runtime/traceback.go printcreatedby: not for goroutine 1, nor when
	 * the runtime made it. */
	if (g->gopc && g->goid != 1 && gobin_pc_lookup(&s->bin, g->gopc - 1, &loc) == 0 &&
	    strncmp(loc.func, "runtime.", 8)) {
		sbuf_addf(sb, "created by %s", loc.func);
		if (g->parent)
			sbuf_addf(sb, " in goroutine %" PRId64, g->parent);
		sbuf_addf(sb, "\n\t%s:%d +%#" PRIx64 "\n", loc.file ? loc.file : "?", loc.line,
			  g->gopc - loc.entry);
	}
}

int goroutine_leaked(const struct goroutine *g)
{
	static const char *const blocking[] = {
		"chan send", "chan receive", "chan send (nil chan)", "chan receive (nil chan)",
		"select", "select (no cases)", "semacquire", "sync.Cond.Wait", "sync.Mutex.Lock",
		"sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.WaitGroup.Wait",
	};
	size_t i;

	if (g->system || g->status != G_WAITING)
		return 0;
	for (i = 0; i < sizeof(blocking) / sizeof(blocking[0]); i++)
		if (!strcmp(g->reason, blocking[i]))
			return 1;
	return 0;
}

int goroutine_on_stack(struct session *s, struct thread *t, const struct goroutine *g,
		       const char *func)
{
	uint64_t pcs[BT_MAX];
	struct gobin_loc loc;
	int n = goroutine_pcs(s, t, g, pcs, BT_MAX), i;

	for (i = 0; i < n; i++)
		if (gobin_pc_lookup(&s->bin, i ? pcs[i] - 1 : pcs[i], &loc) == 0 &&
		    !strcmp(loc.func, func))
			return 1;
	return gobin_pc_lookup(&s->bin, g->startpc, &loc) == 0 && !strcmp(loc.func, func);
}

void goroutines_dump(struct sbuf *sb, struct session *s, struct thread *t, int system)
{
	struct sbuf why = SBUF_INIT;
	struct goroutine *gs;
	size_t n, i, shown = 0;

	if (goroutines_read(s, t, &gs, &n, &why)) {
		sbuf_addf(sb, "(no goroutine list: %s)\n", why.buf);
		sbuf_release(&why);
		return;
	}
	for (i = 0; i < n; i++)
		shown += system || !gs[i].system;
	sbuf_addf(sb, "%zu goroutine%s", shown, shown == 1 ? "" : "s");
	if (shown != n)
		sbuf_addf(sb, " (and %zu of the runtime's own)", n - shown);
	sbuf_adds(sb, ":\n");
	for (i = 0; i < n; i++)
		if (system || !gs[i].system) {
			sbuf_addc(sb, '\n');
			goroutine_print(sb, s, t, &gs[i], 0);
		}
	free(gs);
	sbuf_release(&why);
}

int goroutines_count(struct session *s, struct thread *t, int64_t *goroutines, int64_t *timers)
{
	struct sbuf why = SBUF_INIT;
	const struct go_layout *L = goroutines_layout(s, &why);
	uint64_t slice[2], ps[1024];
	size_t i;
	int err;

	*goroutines = *timers = -1;
	sbuf_release(&why);
	if (!L)
		return -ENOTSUP;
	{
		struct goroutine *gs;
		size_t n;

		err = goroutines_read(s, t, &gs, &n, &why);
		sbuf_release(&why);
		if (err)
			return err;
		/* As runtime.NumGoroutine: not the runtime's own. */
		*goroutines = 0;
		for (i = 0; i < n; i++)
			*goroutines += !gs[i].system;
		free(gs);
	}
	if (!L->has_timers || thread_read(t, L->allp, slice, sizeof(slice)) || slice[1] > 1024 ||
	    thread_read(t, slice[0], ps, slice[1] * 8))
		return 0;
	*timers = 0;
	for (i = 0; i < slice[1]; i++) {
		uint32_t n = 0, dead = 0;

		if (!ps[i] || thread_read(t, ps[i] + L->p_ntimers, &n, 4) ||
		    thread_read(t, ps[i] + L->p_dead_timers, &dead, 4))
			continue;
		*timers += n > dead ? n - dead : 0;
	}
	return 0;
}

/* runtime.g's goid field: offset 152 in Go 1.19 through 1.26 (their
 * DWARF); the layout found for the binary (harness/go/goroutines.c) says
 * where it is for others. */
#define G_GOID_OFFSET 152

int goroutine_id(struct session *s, struct thread *t, int64_t *goid)
{
	struct user_regs_struct regs;

	if (!s->have_bin || !s->bin.is_go || thread_getregs(t, &regs))
		return -ENOENT;
	return goroutine_id_regs(s, t, &regs, goid);
}

int goroutine_id_regs(struct session *s, struct thread *t, const struct user_regs_struct *regs,
		      int64_t *goid)
{
	struct sbuf why = SBUF_INIT;
	const struct go_layout *L;
	uint64_t g;

	/* The runtime keeps g in the thread's TLS slot at -8 from fs_base
	 * (runtime/go_tls.h, cmd/link's runtime.tlsg on linux/amd64). */
	if (!s->have_bin || !s->bin.is_go || thread_read(t, regs->fs_base - 8, &g, 8) || !g)
		return -ENOENT;
	L = goroutines_layout(s, &why);
	sbuf_release(&why);
	return thread_read(t, g + (L ? L->g_goid : G_GOID_OFFSET), goid, 8) ? -EFAULT : 0;
}

int goroutine_stack_hash(struct session *s, struct thread *t, const struct user_regs_struct *regs,
			 uint64_t *hash, unsigned char *top, size_t *top_len)
{
	unsigned char *buf, d[32];
	struct sha256 sh;
	uint64_t g, hi, bounds[2];
	int64_t goid;
	size_t len;
	int err;

	/* runtime.g starts with its stack bounds, lo and hi
	 * (runtime/runtime2.go: stack stack; "offset known to runtime/cgo").
	 * rsp must lie between them: code that switched to the system stack
	 * with g unchanged (runtime.nanotime1 calls the vDSO on g0's) has
	 * it elsewhere, and [rsp, hi) then ran over other stacks and heap
	 * whose dead bytes differ in replay (time's and math/big's tests
	 * diverged at slices in nanotime1: registers equal, digest not). */
	if (goroutine_id_regs(s, t, regs, &goid) || goid <= 0 ||
	    thread_read(t, regs->fs_base - 8, &g, 8) || !g || thread_read(t, g, bounds, 16) ||
	    regs->rsp < bounds[0] || bounds[1] <= regs->rsp)
		return -ENOENT;
	hi = bounds[1];
	len = hi - regs->rsp > GSTACK_HASH_MAX ? GSTACK_HASH_MAX : (size_t)(hi - regs->rsp);
	buf = xmalloc(len);
	err = thread_read(t, regs->rsp, buf, len);
	if (!err) {
		sha256_init(&sh);
		sha256_update(&sh, buf, len);
		sha256_final(&sh, d);
		memcpy(hash, d, 8);
		if (top) {
			*top_len = len < GSTACK_TOP_MAX ? len : GSTACK_TOP_MAX;
			memcpy(top, buf, *top_len);
		}
	}
	free(buf);
	return err ? -ENOENT : 0;
}

/* runtime/stack.go: stackPreempt = uintptrMask & -1314. */
#define STACK_PREEMPT 0xfffffffffffffadeULL

int goroutine_preempt(struct session *s, struct thread *t)
{
	struct user_regs_struct regs;
	struct sbuf why = SBUF_INIT;
	const struct go_layout *L;
	uint64_t g, sg = STACK_PREEMPT;
	unsigned char one = 1;

	if (!s->have_bin || !s->bin.is_go || thread_getregs(t, &regs))
		return -ENOENT;
	L = goroutines_layout(s, &why);
	sbuf_release(&why);
	if (!L || !L->g_preempt || thread_read(t, regs.fs_base - 8, &g, 8) || !g)
		return -ENOENT;
	if (thread_write(t, g + L->g_preempt, &one, 1) ||
	    thread_write(t, g + L->g_stackguard0, &sg, 8))
		return -EFAULT;
	return 0;
}
