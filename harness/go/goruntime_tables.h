/* Layouts of the Go runtime's structures for binaries without DWARF
 * (harness/go/goroutines.c, the only file that includes this one, after
 * goroutines.h, which defines struct go_layout).  The offsets were read by gorr's own DWARF
 * reader from builds of each release (tests/unit/test_goroutines.c
 * checks that DWARF and table agree); the wait reasons are
 * runtime/runtime2.go's waitReasonStrings in the order of the waitReason
 * constants, generated from each release's source by
 * tests/gen_wait_reasons.py. */
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
	{ "go1.19", { .g_m = 48, .g_sched = 56, .g_syscallsp = 112, .g_syscallpc = 120,
		      .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
		      .g_waitreason = 176, .g_gopc = 296, .g_startpc = 312,
		      .g_stackguard0 = 16, .g_preempt = 177,
		      .g_trackingseq = 189, .has_trackingseq = 1,
		      .gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 48, .m_procid = 72 } },
	{ "go1.26", { .g_m = 48, .g_sched = 56, .g_syscallsp = 104, .g_syscallpc = 112,
		      .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
		      .g_waitreason = 176, .g_gopc = 288, .g_startpc = 304,
		      .g_parentgoid = 280, .has_parentgoid = 1,
		      .g_stackguard0 = 16, .g_preempt = 177,
		      .g_trackingseq = 191, .has_trackingseq = 1,
		      .gobuf_sp = 0, .gobuf_pc = 8, .gobuf_bp = 40, .m_procid = 64 } },
};

static inline const char *const *go_wait_reasons(const char *version, size_t *n)
{
	if (!strncmp(version, "go1.19", 6) && (version[6] == '.' || !version[6])) {
		*n = sizeof(wait_reasons_go1_19) / sizeof(wait_reasons_go1_19[0]);
		return wait_reasons_go1_19;
	}
	if (!strncmp(version, "go1.26", 6) && (version[6] == '.' || !version[6])) {
		*n = sizeof(wait_reasons_go1_26) / sizeof(wait_reasons_go1_26[0]);
		return wait_reasons_go1_26;
	}
	*n = 0;
	return NULL;
}

#endif
