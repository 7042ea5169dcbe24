#include "harness/trace/event.h"
#include "harness/trace/trace.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

static const struct {
	const char *name;
	enum ev_type type;
} ev_types[] = {
	{ "syscall", EV_SYSCALL },
	{ "signal", EV_SIGNAL },
	{ "clone", EV_CLONE },
	{ "exit", EV_EXIT },
	{ "exec", EV_EXEC },
	{ "rdtsc", EV_RDTSC },
	{ "end", EV_END },
	{ "run", EV_RUN },
	{ "slice", EV_SLICE },
	{ "fault", EV_FAULT },
	{ "sample", EV_SAMPLE },
	{ "clk", EV_SYSCALL },
	{ "b", EV_SYSCALL },
};

static struct ev_blob get_blob(const msgpack_object *m, const char *key)
{
	struct ev_blob b = { NULL, 0 };
	uint32_t len;
	const char *p = mp_get_raw(m, key, &len);

	if (p) {
		b.p = (const unsigned char *)p;
		b.len = len;
	}
	return b;
}

static int is_uint(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
}

static int is_raw(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_BIN || o->type == MSGPACK_OBJECT_STR;
}

static struct ev_blob raw(const msgpack_object *o)
{
	struct ev_blob b;

	if (o->type == MSGPACK_OBJECT_BIN) {
		b.p = (const unsigned char *)o->via.bin.ptr;
		b.len = o->via.bin.size;
	} else {
		b.p = (const unsigned char *)o->via.str.ptr;
		b.len = o->via.str.size;
	}
	return b;
}

/* A syscall event's `a`, already checked to be an array of at most 6. */
static int decode_args(const msgpack_object *a, struct trace_event *ev, struct sbuf *why)
{
	uint32_t i;

	ev->nargs = (int)a->via.array.size;
	for (i = 0; i < a->via.array.size; i++) {
		if (!is_uint(&a->via.array.ptr[i])) {
			sbuf_adds(why, "a syscall argument that is not a number");
			return -EINVAL;
		}
		ev->args[i] = a->via.array.ptr[i].via.u64;
	}
	return 0;
}

static int decode_syscall(const msgpack_object *o, struct trace_event *ev,
			  struct sbuf *why)
{
	const msgpack_object *a = mp_get(o, "a"), *in = mp_get(o, "in"),
			     *out = mp_get(o, "out"), *nr = mp_get(o, "nr");
	uint64_t incut = mp_get_uint(o, "incut", 0);
	uint32_t i;

	if (!nr || (nr->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    nr->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)) {
		sbuf_adds(why, "a syscall event without a number");
		return -EINVAL;
	}
	ev->nr = (long)mp_get_int(o, "nr", -1);
	ev->pc = mp_get_uint(o, "pc", 0);
	ev->has_ret = mp_get(o, "r") != NULL;
	ev->ret = mp_get_int(o, "r", 0);
	ev->emulated = mp_get(o, "emulated") != NULL;
	ev->tty = (int)mp_get_int(o, "tty", 0);
	ev->injected = mp_get(o, "injected") != NULL;
	ev->blocked = mp_get(o, "blocked") != NULL;
	ev->vdso = mp_get(o, "vdso") != NULL;
	ev->fast = mp_get(o, "f") != NULL;
	if (!a || a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size > 6) {
		sbuf_adds(why, "a syscall event without its arguments");
		return -EINVAL;
	}
	if (decode_args(a, ev, why))
		return -EINVAL;
	if (in && in->type == MSGPACK_OBJECT_ARRAY) {
		for (i = 0; i < in->via.array.size && ev->nin < 6; i++) {
			const msgpack_object *e = &in->via.array.ptr[i];

			if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size < 2 ||
			    !is_uint(&e->via.array.ptr[0]) || e->via.array.ptr[0].via.u64 > 5 ||
			    !is_raw(&e->via.array.ptr[1])) {
				sbuf_adds(why, "a malformed input capture");
				return -EINVAL;
			}
			ev->in[ev->nin].arg = (int)e->via.array.ptr[0].via.u64;
			ev->in[ev->nin].cut = (int)((incut >> ev->in[ev->nin].arg) & 1);
			ev->in[ev->nin].data = raw(&e->via.array.ptr[1]);
			ev->nin++;
		}
	}
	if (out && out->type == MSGPACK_OBJECT_ARRAY) {
		for (i = 0; i < out->via.array.size; i++) {
			const msgpack_object *e = &out->via.array.ptr[i];

			if (ev->nout >= SC_MAX_REGIONS || e->type != MSGPACK_OBJECT_ARRAY ||
			    e->via.array.size < 2 || !is_uint(&e->via.array.ptr[0]) ||
			    !(is_raw(&e->via.array.ptr[1]) ||
			      e->via.array.ptr[1].type == MSGPACK_OBJECT_NIL)) {
				sbuf_adds(why, "a malformed memory write");
				return -EINVAL;
			}
			ev->out[ev->nout].addr = e->via.array.ptr[0].via.u64;
			if (e->via.array.ptr[1].type == MSGPACK_OBJECT_NIL)
				ev->out[ev->nout].missing = 1;
			else
				ev->out[ev->nout].data = raw(&e->via.array.ptr[1]);
			ev->nout++;
		}
	}
	return 0;
}

/* A clock read of gorr's vDSO, written short (docs/trace-format.md, clk):
 * decoded as the syscall it stands for, marked vdso. */
static int decode_clk(const msgpack_object *o, struct trace_event *ev, struct sbuf *why)
{
	const struct sc_desc *d;
	int64_t sec, nsec;
	uint64_t ptr = mp_get(o, "z") ? 0 : VDSO_PTR;
	size_t n;

	ev->vdso = 1;
	ev->nr = (long)mp_get_int(o, "nr", SYS_clock_gettime);
	d = sc_lookup(ev->nr);
	if (!d || !(d->flags & SF_CLOCKREAD)) {
		sbuf_adds(why, "a clock read of another call");
		return -EINVAL;
	}
	ev->nargs = d->nargs;
	sec = mp_get_int(o, "s", 0);
	nsec = mp_get_int(o, "n", 0);
	ev->has_ret = 1;
	ev->ret = mp_get_int(o, "r", ev->nr == SYS_time ? sec : 0);
	if (ev->nr == SYS_clock_gettime) {
		ev->args[0] = mp_get_uint(o, "k", 0);
		ev->args[1] = ptr;
	} else {
		ev->args[0] = ptr;
	}
	if (ptr && ev->ret >= 0 && (n = sc_clock_out(d, sec, nsec, ev->vdso_out))) {
		ev->out[0].addr = ptr;
		ev->out[0].data.p = ev->vdso_out;
		ev->out[0].data.len = (uint32_t)n;
		ev->nout = 1;
	}
	return 0;
}

/* A call gorr's syscall buffer made without a stop, written short
 * (docs/trace-format.md, b): decoded as the syscall it stands for,
 * marked fast; its one output went where argument 1 points, and its pc,
 * when absent, is the process's Syscall6 site (0 here: replay knows it). */
static int decode_b(const msgpack_object *o, struct trace_event *ev, struct sbuf *why)
{
	const msgpack_object *a = mp_get(o, "a"), *out = mp_get(o, "o"), *nr = mp_get(o, "n");

	if (!nr || !is_uint(nr) || !a || a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size > 6 ||
	    a->via.array.size < 2 || !mp_get(o, "r")) {
		sbuf_adds(why, "a malformed buffered call");
		return -EINVAL;
	}
	ev->fast = 1;
	ev->nr = (long)nr->via.u64;
	ev->pc = mp_get_uint(o, "pc", 0);
	ev->has_ret = 1;
	ev->ret = mp_get_int(o, "r", 0);
	if (decode_args(a, ev, why))
		return -EINVAL;
	if (out) {
		if (!is_raw(out)) {
			sbuf_adds(why, "a malformed memory write");
			return -EINVAL;
		}
		ev->out[0].addr = ev->args[1];
		ev->out[0].data = raw(out);
		ev->nout = 1;
	}
	return 0;
}

int trace_event_decode(const msgpack_object *o, struct trace_event *ev, uint64_t index,
		       struct sbuf *why)
{
	const msgpack_object *e = mp_get(o, "e");
	size_t i;

	memset(ev, 0, sizeof(*ev));
	if (!o || o->type != MSGPACK_OBJECT_MAP || !e || e->type != MSGPACK_OBJECT_STR) {
		sbuf_adds(why, "an object that is not an event");
		return -EINVAL;
	}
	ev->type_name = e->via.str.ptr;
	ev->type_len = e->via.str.size;
	ev->index = mp_get_uint(o, "i", index);
	ev->tid = mp_get_int(o, "tid", 0);
	for (i = 0; i < ARRAY_SIZE(ev_types); i++)
		if (mp_is_str(e, ev_types[i].name))
			ev->type = ev_types[i].type;
	switch (ev->type) {
	case EV_SYSCALL:
		if (mp_is_str(e, "clk"))
			return decode_clk(o, ev, why);
		if (mp_is_str(e, "b"))
			return decode_b(o, ev, why);
		return decode_syscall(o, ev, why);
	case EV_SIGNAL:
		ev->sig = (int)mp_get_int(o, "sig", 0);
		ev->code = (int)mp_get_int(o, "code", 0);
		ev->info = get_blob(o, "info");
		break;
	case EV_CLONE:
		ev->child = mp_get_int(o, "child", 0);
		ev->kind = get_blob(o, "kind");
		break;
	case EV_EXIT:
		ev->wstatus = (int)mp_get_int(o, "wstatus", 0);
		break;
	case EV_EXEC:
		ev->path = get_blob(o, "path");
		ev->at_random = get_blob(o, "at_random");
		ev->image = get_blob(o, "image");
		ev->vdso_fast = mp_get(o, "vdso_fast") != NULL;
		ev->vdso_hidden = mp_get(o, "vdso_hidden") &&
				  mp_get(o, "vdso_hidden")->type == MSGPACK_OBJECT_BOOLEAN &&
				  mp_get(o, "vdso_hidden")->via.boolean;
		break;
	case EV_RDTSC:
		ev->pc = mp_get_uint(o, "pc", 0);
		ev->rdtscp = mp_is_str(mp_get(o, "insn"), "rdtscp");
		ev->tsc = mp_get_uint(o, "tsc", 0);
		ev->aux = (uint32_t)mp_get_uint(o, "aux", 0);
		break;
	case EV_RUN:
		break;
	case EV_FAULT:
		ev->rule = get_blob(o, "rule");
		ev->action = get_blob(o, "action");
		ev->nr = (long)mp_get_int(o, "nr", -1);
		ev->pc = mp_get_uint(o, "pc", 0);	/* gc: where it started */
		ev->regs = get_blob(o, "regs");
		ev->clear = (unsigned int)mp_get_uint(o, "clear", 0);
		break;
	case EV_SAMPLE:
		ev->sample_t = mp_get_int(o, "t", 0);
		ev->sample_goroutines = mp_get_int(o, "goroutines", -1);
		ev->sample_timers = mp_get_int(o, "timers", -1);
		break;
	case EV_SLICE:
		ev->pc = mp_get_uint(o, "pc", 0);
		ev->regs = get_blob(o, "regs");
		ev->sse = get_blob(o, "sse");
		ev->stk = mp_get_uint(o, "stk", 0);
		ev->stktop = get_blob(o, "stktop");
		ev->goid = mp_get_int(o, "g", 0);
		ev->preempt = mp_get(o, "preempt") != NULL;
		ev->at_bp = mp_get(o, "bp") != NULL;
		ev->visit = mp_get_uint(o, "visit", 0);
		ev->laps = mp_get_uint(o, "laps", 0);
		ev->loop = mp_get(o, "loop") != NULL;
		ev->loop_mem = get_blob(o, "loop");
		break;
	case EV_END:
		ev->status = (int)mp_get_int(o, "status", 0);
		ev->wstatus = (int)mp_get_int(o, "wstatus", 0);
		ev->hang = mp_get(o, "hang") != NULL;
		ev->leaks = mp_get_uint(o, "leaks", 0);
		break;
	case EV_UNKNOWN:
		break;
	}
	return 0;
}

void mp_to_json(struct sbuf *sb, const msgpack_object *o)
{
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		sbuf_adds(sb, "null");
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		sbuf_adds(sb, o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		sbuf_addf(sb, "%llu", (unsigned long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		sbuf_addf(sb, "%lld", (long long)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		sbuf_addf(sb, "%.17g", o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		sbuf_add_json_str(sb, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		sbuf_addc(sb, '"');
		sbuf_add_hex(sb, o->via.bin.ptr, o->via.bin.size);
		sbuf_addc(sb, '"');
		break;
	case MSGPACK_OBJECT_ARRAY:
		sbuf_addc(sb, '[');
		for (i = 0; i < o->via.array.size; i++) {
			if (i)
				sbuf_addc(sb, ',');
			mp_to_json(sb, &o->via.array.ptr[i]);
		}
		sbuf_addc(sb, ']');
		break;
	case MSGPACK_OBJECT_MAP:
		sbuf_addc(sb, '{');
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (i)
				sbuf_addc(sb, ',');
			if (k->type == MSGPACK_OBJECT_STR) {
				mp_to_json(sb, k);
			} else {
				/* JSON keys are strings: the key's JSON, quoted,
				 * and cut at 256 bytes.  Uncut, a key holding a
				 * map with such keys is escaped again at each
				 * level, and a damaged 9.6 KB trace grew to
				 * hundreds of MB (found by tests/fuzz/fuzz_trace). */
				struct sbuf tmp = SBUF_INIT;

				mp_to_json(&tmp, k);
				if (tmp.len > 256) {
					tmp.len = 256;
					tmp.buf[256] = '\0';
					sbuf_adds(&tmp, "...");
				}
				sbuf_add_json_str(sb, tmp.buf, tmp.len);
				sbuf_release(&tmp);
			}
			sbuf_addc(sb, ':');
			mp_to_json(sb, &o->via.map.ptr[i].val);
		}
		sbuf_addc(sb, '}');
		break;
	default:
		sbuf_adds(sb, "null");
		break;
	}
}
