#define _GNU_SOURCE
#include "harness/trace/dump.h"
#include "harness/trace/event.h"
#include "harness/trace/printer.h"
#include "harness/go/gobin.h"
#include "harness/base/sha256.h"
#include "harness/trace/trace.h"
#include "harness/base/util.h"
#include "harness/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char dump_usage[] =
	"usage: gorr dump [options] TRACE\n"
	"\n"
	"Print a trace's events, one per line: syscalls strace-like\n"
	"(\"[tid] clock_gettime(CLOCK_MONOTONIC, {...}) = 0\"), signals, threads,\n"
	"execs, emulated rdtsc. The first column is the event number.\n"
	"A damaged trace is printed up to its last whole event, then reported.\n"
	"\n"
	"options:\n"
	"      --json          one JSON object per line: the header, then each\n"
	"                      event as recorded (binary values as hex strings)\n"
	"  -s, --strsize N     bytes of buffers shown (default 32)\n"
	"  -h, --help          show this help\n";

/* The program the trace was recorded from, when it is still there and
 * unchanged, to name the functions at recorded PCs. */
static int open_traced_binary(const msgpack_object *hdr, struct gobin *bin)
{
	uint32_t n, dn, cn;
	const char *exe = mp_get_raw(hdr, "exe", &n);
	const char *digest = mp_get_raw(hdr, "exe_sha256", &dn);
	const char *cwd = mp_get_raw(hdr, "cwd", &cn);
	struct sbuf path = SBUF_INIT;
	unsigned char now[32];
	int ok = 0;

	if (!exe || !digest || dn != 32)
		return 0;
	if (exe[0] != '/' && cwd)
		sbuf_addf(&path, "%.*s/", (int)cn, cwd);
	sbuf_add(&path, exe, n);
	if (sha256_file(path.buf, now) == 0 && !memcmp(now, digest, 32) &&
	    gobin_open(bin, path.buf) == 0)
		ok = bin->is_go;
	if (!ok && bin->path)
		gobin_release(bin);
	sbuf_release(&path);
	return ok;
}

static void print_header(struct sbuf *sb, const msgpack_object *h)
{
	const msgpack_object *argv = mp_get(h, "argv");
	uint32_t n, i;
	const char *s;

	s = mp_get_raw(h, "kind", &n);
	sbuf_addf(sb, "# gorr %.*s trace (format %llu", s ? (int)n : 0, s ? s : "",
		  (unsigned long long)mp_get_uint(h, "version", 0));
	if ((s = mp_get_raw(h, "gorr", &n)))
		sbuf_addf(sb, ", written by gorr %.*s", (int)n, s);
	sbuf_adds(sb, ")\n");
	sbuf_adds(sb, "# program:");
	if (argv && argv->type == MSGPACK_OBJECT_ARRAY)
		for (i = 0; i < argv->via.array.size; i++) {
			const msgpack_object *a = &argv->via.array.ptr[i];

			sbuf_addc(sb, ' ');
			if (a->type == MSGPACK_OBJECT_STR)
				sbuf_add_quoted(sb, a->via.str.ptr, a->via.str.size, 256);
		}
	sbuf_addc(sb, '\n');
	s = mp_get_raw(h, "go", &n);
	sbuf_addf(sb, "# go: %.*s, seed: %llu, cpus: %lld, pinned cpu: %lld\n",
		  s && n ? (int)n : 4, s && n ? s : "none",
		  (unsigned long long)mp_get_uint(h, "seed", 0),
		  (long long)mp_get_int(h, "cpus", 0), (long long)mp_get_int(h, "pinned_cpu", -1));
}

/* Check the first object; NULL when it is a usable header, else why not. */
static const char *check_header(const msgpack_object *h)
{
	if (h->type != MSGPACK_OBJECT_MAP || !mp_is_str(mp_get(h, "magic"), TRACE_MAGIC))
		return "not a gorr trace";
	if (mp_get_uint(h, "version", 0) == 0)
		return "a gorr trace without a format version";
	if (mp_get_uint(h, "version", 0) > TRACE_VERSION)
		return "written in a newer trace format than this gorr reads";
	return NULL;
}

static int dump_trace(const char *path, int json, size_t strsize)
{
	struct trace_reader r;
	const msgpack_object *o;
	struct print_opts po = { strsize, NULL };
	struct sbuf line = SBUF_INIT, why = SBUF_INIT;
	struct gobin bin;
	struct trace_event ev;
	enum trace_status st;
	const char *bad;
	uint64_t last = 0, events = 0;
	int have_bin = 0, seen_end = 0, ret = 0, err;

	memset(&bin, 0, sizeof(bin));
	err = trace_reader_open(&r, path);
	if (err) {
		error("cannot open '%s': %s", path, strerror(-err));
		return 1;
	}
	st = trace_next(&r, &o);
	if (st != TRACE_OBJECT) {
		if (st == TRACE_EOF)
			error("'%s' is empty: not a gorr trace", path);
		else if (st == TRACE_IOERR)
			error("cannot read '%s': %s", path, strerror(r.err));
		else
			error("'%s' is not a gorr trace", path);
		trace_reader_close(&r);
		return 1;
	}
	bad = check_header(o);
	if (bad) {
		error("'%s' is %s", path, bad);
		trace_reader_close(&r);
		return 1;
	}
	if (json) {
		mp_to_json(&line, o);
		sbuf_addc(&line, '\n');
	} else {
		have_bin = open_traced_binary(o, &bin);
		if (have_bin)
			po.bin = &bin;
		print_header(&line, o);
	}
	fwrite(line.buf, 1, line.len, stdout);

	while ((st = trace_next(&r, &o)) == TRACE_OBJECT) {
		sbuf_reset(&line);
		sbuf_reset(&why);
		if (trace_event_decode(o, &ev, events, &why) < 0) {
			fflush(stdout);
			error("%s: event %llu is damaged (%s)", path,
			      (unsigned long long)events, why.buf);
			ret = 1;
			break;
		}
		if (json) {
			mp_to_json(&line, o);
			/* The short events' number, which they do not carry:
			 * each line says which event it is. */
			if (!mp_get(o, "i") && line.len > 1 && line.buf[0] == '{') {
				struct sbuf with = SBUF_INIT;

				sbuf_addf(&with, "{\"i\":%llu,", (unsigned long long)ev.index);
				sbuf_add(&with, line.buf + 1, line.len - 1);
				sbuf_release(&line);
				line = with;
			}
		} else {
			print_event(&line, &ev, &po);
		}
		sbuf_addc(&line, '\n');
		fwrite(line.buf, 1, line.len, stdout);
		last = ev.index;
		events++;
		if (ev.type == EV_END)
			seen_end = 1;
	}
	fflush(stdout);
	if (st == TRACE_TRUNCATED) {
		error("%s: truncated after event %llu", path, (unsigned long long)last);
		ret = 1;
	} else if (st == TRACE_CORRUPT) {
		error("%s: corrupt data after event %llu", path, (unsigned long long)last);
		ret = 1;
	} else if (st == TRACE_IOERR) {
		error("cannot read '%s': %s", path, strerror(r.err));
		ret = 1;
	} else if (!ret && !seen_end) {
		warning("%s: no end record after event %llu: the recording was cut short",
			path, (unsigned long long)last);
	}
	if (have_bin)
		gobin_release(&bin);
	sbuf_release(&line);
	sbuf_release(&why);
	trace_reader_close(&r);
	return ret;
}

int cmd_dump(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0, i;
	uint64_t strsize = 32;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(dump_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "-s") || !strcmp(a, "--strsize")) {
			if (++i >= argc || parse_u64(argv[i], &strsize) < 0 || strsize > (1 << 20))
				return cli_usage_error(dump_usage, "'%s' needs a number of bytes", a);
		} else if (!strcmp(a, "--")) {
			if (++i < argc)
				path = argv[i++];
			break;
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error(dump_usage, "unknown option '%s'", a);
		} else if (!path) {
			path = a;
		} else {
			return cli_usage_error(dump_usage, "more than one trace given");
		}
	}
	if (!path)
		return cli_usage_error(dump_usage, "no trace given");
	if (i < argc)
		return cli_usage_error(dump_usage, "more than one trace given");
	return dump_trace(path, json, (size_t)strsize);
}
