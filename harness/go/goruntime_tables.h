/* Layouts of the Go runtime's structures for binaries without DWARF
 * (harness/go/goroutines.c, the only file that includes this one, after
 * goroutines.h, which defines struct go_layout).  The offsets were read by gorr's own DWARF
 * reader from builds of each release (`build/tests/test_goroutines layout
 * BINARY` prints a row; tests/unit/test_goroutines.c checks that DWARF
 * and table agree, on every toolchain of `make check-matrix`); the wait
 * reasons are runtime/runtime2.go's waitReasonStrings in the order of the
 * waitReason constants, generated from each release's source by
 * tests/gen_wait_reasons.py.  Go 1.20 has no table: Go's own toolchain
 * modules start at 1.21, and Debian has 1.19. */
#ifndef GORR_GORUNTIME_TABLES_H
#define GORR_GORUNTIME_TABLES_H

#include <string.h>

static const char *const wait_reasons_go1_19[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep",
	"sync.Cond.Wait", "timer goroutine (idle)", "trace reader (blocked)",
	"wait for GC cycle", "GC worker (idle)", "preempted", "debug call",
};
static const char *const wait_reasons_go1_21[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep",
	"sync.Cond.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock",
	"trace reader (blocked)", "wait for GC cycle", "GC worker (idle)", "GC worker (active)",
	"preempted", "debug call", "GC mark termination", "stopping the world",
};
static const char *const wait_reasons_go1_22[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep",
	"sync.Cond.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock",
	"trace reader (blocked)", "wait for GC cycle", "GC worker (idle)", "GC worker (active)",
	"preempted", "debug call", "GC mark termination", "stopping the world",
	"flushing proc caches", "trace goroutine status", "trace proc status",
	"page trace flush", "coroutine",
};
static const char *const wait_reasons_go1_23[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep",
	"sync.Cond.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock",
	"trace reader (blocked)", "wait for GC cycle", "GC worker (idle)", "GC worker (active)",
	"preempted", "debug call", "GC mark termination", "stopping the world",
	"flushing proc caches", "trace goroutine status", "trace proc status",
	"page trace flush", "coroutine", "GC weak to strong wait",
};
static const char *const wait_reasons_go1_24[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep",
	"sync.Cond.Wait", "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock",
	"sync.WaitGroup.Wait", "trace reader (blocked)", "wait for GC cycle",
	"GC worker (idle)", "GC worker (active)", "preempted", "debug call",
	"GC mark termination", "stopping the world", "flushing proc caches",
	"trace goroutine status", "trace proc status", "page trace flush", "coroutine",
	"GC weak to strong wait", "synctest.Run", "synctest.Wait", "chan receive (synctest)",
	"chan send (synctest)", "select (synctest)",
};
static const char *const wait_reasons_go1_25[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait",
	"chan receive", "chan send", "finalizer wait", "force gc (idle)",
	"GOMAXPROCS updater (idle)", "semacquire", "sleep", "sync.Cond.Wait", "sync.Mutex.Lock",
	"sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.WaitGroup.Wait",
	"trace reader (blocked)", "wait for GC cycle", "GC worker (idle)", "GC worker (active)",
	"preempted", "debug call", "GC mark termination", "stopping the world",
	"flushing proc caches", "trace goroutine status", "trace proc status",
	"page trace flush", "coroutine", "GC weak to strong wait", "synctest.Run",
	"synctest.Wait", "chan receive (durable)", "chan send (durable)", "select (durable)",
	"sync.WaitGroup.Wait (durable)", "cleanup wait",
};
static const char *const wait_reasons_go1_26[] = {
	"", "GC assist marking", "IO wait", "dumping heap", "garbage collection",
	"garbage collection scan", "panicwait", "GC assist wait", "GC sweep wait",
	"GC scavenge wait", "finalizer wait", "force gc (idle)", "GOMAXPROCS updater (idle)",
	"semacquire", "sleep", "chan receive (nil chan)", "chan send (nil chan)",
	"select (no cases)", "select", "chan receive", "chan send", "sync.Cond.Wait",
	"sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock", "sync.WaitGroup.Wait",
	"trace reader (blocked)", "wait for GC cycle", "GC worker (idle)", "GC worker (active)",
	"preempted", "debug call", "GC mark termination", "stopping the world",
	"flushing proc caches", "trace goroutine status", "trace proc status",
	"page trace flush", "coroutine", "GC weak to strong wait", "synctest.Run",
	"synctest.Wait", "chan receive (durable)", "chan send (durable)", "select (durable)",
	"sync.WaitGroup.Wait (durable)", "cleanup wait",
};

static const struct {
	const char *release;
	struct go_layout layout;
} go_layouts[] = {
	/* go1.19.8, from DWARF */
	{ "go1.19", { .g_m = 48, .g_sched = 56, .g_syscallsp = 112, .g_syscallpc = 120,
		      .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
		      .g_waitreason = 176, .g_gopc = 296, .g_startpc = 312,
		      .g_stackguard0 = 16, .g_preempt = 177,
		      .g_trackingseq = 189, .has_trackingseq = 1,
		      .gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 48, .m_procid = 72 } },
	/* go1.21.13, from DWARF */
	{ "go1.21", { .g_m = 48, .g_sched = 56, .g_syscallsp = 112, .g_syscallpc = 120,
		      .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
		      .g_waitreason = 176, .g_gopc = 280, .g_startpc = 296,
		      .g_parentgoid = 272, .has_parentgoid = 1,
		      .g_stackguard0 = 16, .g_preempt = 177,
		      .g_trackingseq = 188, .has_trackingseq = 1,
		      .gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 48, .m_procid = 72 } },
	/* go1.22.12, from DWARF */
	{ "go1.22", { .g_m = 48, .g_sched = 56, .g_syscallsp = 112, .g_syscallpc = 120,
		      .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
		      .g_waitreason = 176, .g_gopc = 280, .g_startpc = 296,
		      .g_parentgoid = 272, .has_parentgoid = 1,
		      .g_stackguard0 = 16, .g_preempt = 177,
		      .g_trackingseq = 191, .has_trackingseq = 1,
		      .gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 48, .m_procid = 72 } },
	/* go1.23.12, from DWARF */
	{ "go1.23", { .g_m = 48, .g_sched = 56, .g_syscallsp = 112, .g_syscallpc = 120,
		      .g_atomicstatus = 152, .g_goid = 160, .g_waitsince = 176,
		      .g_waitreason = 184, .g_gopc = 288, .g_startpc = 304,
		      .g_parentgoid = 280, .has_parentgoid = 1,
		      .g_stackguard0 = 16, .g_preempt = 185,
		      .g_trackingseq = 199, .has_trackingseq = 1,
		      .gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 48, .m_procid = 72 } },
	/* go1.24.13, from DWARF */
	{ "go1.24", { .g_m = 48, .g_sched = 56, .g_syscallsp = 112, .g_syscallpc = 120,
		      .g_atomicstatus = 152, .g_goid = 160, .g_waitsince = 176,
		      .g_waitreason = 184, .g_gopc = 288, .g_startpc = 304,
		      .g_parentgoid = 280, .has_parentgoid = 1,
		      .g_stackguard0 = 16, .g_preempt = 185,
		      .g_trackingseq = 199, .has_trackingseq = 1,
		      .gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 48, .m_procid = 72 } },
	/* go1.25.14, from DWARF */
	{ "go1.25", { .g_m = 48, .g_sched = 56, .g_syscallsp = 104, .g_syscallpc = 112,
		      .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
		      .g_waitreason = 176, .g_gopc = 280, .g_startpc = 296,
		      .g_parentgoid = 272, .has_parentgoid = 1,
		      .g_stackguard0 = 16, .g_preempt = 177,
		      .g_trackingseq = 191, .has_trackingseq = 1,
		      .gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 40, .m_procid = 64 } },
	/* go1.26.8, from DWARF */
	{ "go1.26", { .g_m = 48, .g_sched = 56, .g_syscallsp = 104, .g_syscallpc = 112,
		      .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
		      .g_waitreason = 176, .g_gopc = 288, .g_startpc = 304,
		      .g_parentgoid = 280, .has_parentgoid = 1,
		      .g_stackguard0 = 16, .g_preempt = 177,
		      .g_trackingseq = 191, .has_trackingseq = 1,
		      .gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 40, .m_procid = 64 } },
};

#define WAIT_REASONS(r) { #r, wait_reasons_##r, sizeof(wait_reasons_##r) / sizeof(wait_reasons_##r[0]) }

static const struct {
	const char *release;	/* "go1_22": the release with _ for . */
	const char *const *names;
	size_t n;
} go_wait_reason_tables[] = {
	WAIT_REASONS(go1_19), WAIT_REASONS(go1_21), WAIT_REASONS(go1_22), WAIT_REASONS(go1_23),
	WAIT_REASONS(go1_24), WAIT_REASONS(go1_25), WAIT_REASONS(go1_26),
};

/* The wait reasons of version's release ("go1.22.12", "go1.22"), or
 * NULL (*n 0) for a release without a table. */
static inline const char *const *go_wait_reasons(const char *version, size_t *n)
{
	size_t i;

	for (i = 0; i < sizeof(go_wait_reason_tables) / sizeof(go_wait_reason_tables[0]); i++) {
		const char *r = go_wait_reason_tables[i].release;
		size_t len = strlen(r), k;

		if (strlen(version) < len)
			continue;
		for (k = 0; k < len; k++)
			if (version[k] != (r[k] == '_' ? '.' : r[k]))
				break;
		if (k == len && (version[len] == '.' || !version[len])) {
			*n = go_wait_reason_tables[i].n;
			return go_wait_reason_tables[i].names;
		}
	}
	*n = 0;
	return NULL;
}

#endif
