/* The trace codec: round trips, and the reader's verdict on damage. */
#include "harness/trace/event.h"
#include "harness/base/sha256.h"
#include "harness/trace/trace.h"
#include "t.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/gorr-test-codec-XXXXXX";

static const char *tmp(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* Write a header and n syscall events; returns the file's size. */
static off_t write_sample(const char *path, int n)
{
	struct trace_writer w;
	msgpack_packer *pk;
	int i;
	off_t size;

	CHECK(trace_writer_open(&w, path) == 0, "open");
	pk = trace_begin(&w);
	msgpack_pack_map(pk, 2);
	mp_kstr(pk, "magic", TRACE_MAGIC);
	mp_kuint(pk, "version", TRACE_VERSION);
	CHECK(trace_commit(&w) == 0, "header");
	for (i = 0; i < n; i++) {
		unsigned char ts[16] = { (unsigned char)i, 1, 2, 3 };

		pk = trace_begin(&w);
		msgpack_pack_map(pk, 7);
		mp_kstr(pk, "e", "syscall");
		mp_kuint(pk, "i", (uint64_t)i);
		mp_kint(pk, "tid", 100);
		mp_kint(pk, "nr", 228);
		mp_str(pk, "a");
		msgpack_pack_array(pk, 2);
		msgpack_pack_uint64(pk, 1);
		msgpack_pack_uint64(pk, 0x1000);
		mp_kint(pk, "r", 0);
		mp_str(pk, "out");
		msgpack_pack_array(pk, 1);
		msgpack_pack_array(pk, 2);
		msgpack_pack_uint64(pk, 0x1000);
		mp_bin(pk, ts, sizeof(ts));
		CHECK(trace_commit(&w) == 0, "event %d", i);
	}
	size = (off_t)w.bytes;
	CHECK(trace_writer_close(&w) == 0, "close");
	return size;
}

static int read_all(const char *path, uint64_t *events, uint64_t *last)
{
	struct trace_reader r;
	const msgpack_object *o;
	enum trace_status st;
	struct trace_event ev;
	struct sbuf why = SBUF_INIT;

	*events = 0;
	*last = 0;
	if (trace_reader_open(&r, path))
		return -100;
	st = trace_next(&r, &o);
	if (st == TRACE_OBJECT) {
		CHECK(mp_is_str(mp_get(o, "magic"), "gorr"), "magic");
		while ((st = trace_next(&r, &o)) == TRACE_OBJECT) {
			CHECK(trace_event_decode(o, &ev, *events, &why) == 0, "decode: %s", why.buf);
			CHECK(ev.type == EV_SYSCALL && ev.nr == 228 && ev.nargs == 2 &&
			      ev.nout == 1 && ev.out[0].data.len == 16, "event fields");
			CHECK(ev.out[0].data.p[0] == (unsigned char)ev.index, "payload");
			*last = ev.index;
			(*events)++;
		}
	}
	trace_reader_close(&r);
	sbuf_release(&why);
	return st;
}

static void round_trip(void)
{
	uint64_t n, last;
	struct stat;

	write_sample(tmp("rt"), 1000);
	CHECK(read_all(tmp("rt"), &n, &last) == TRACE_EOF, "clean end");
	CHECK(n == 1000 && last == 999, "n=%llu", (unsigned long long)n);
}

static void truncated(void)
{
	uint64_t n, last;
	off_t size = write_sample(tmp("tr"), 100);

	CHECK(truncate(tmp("tr"), size - 5) == 0, "truncate");
	CHECK(read_all(tmp("tr"), &n, &last) == TRACE_TRUNCATED, "verdict");
	CHECK(n == 99 && last == 98, "events before the damage: %llu", (unsigned long long)n);
}

static void corrupt(void)
{
	uint64_t n, last;
	off_t size = write_sample(tmp("co"), 10);
	int fd = open(tmp("co"), O_WRONLY | O_APPEND);
	/* 0xc1 is the one byte msgpack never uses. */
	static const unsigned char junk[] = { 0xc1, 0xc1, 0xc1 };

	CHECK(fd >= 0 && write(fd, junk, sizeof(junk)) == 3, "append");
	close(fd);
	(void)size;
	CHECK(read_all(tmp("co"), &n, &last) == TRACE_CORRUPT, "verdict");
	CHECK(n == 10, "events before the damage: %llu", (unsigned long long)n);
}

static void empty_and_missing(void)
{
	struct trace_reader r;
	const msgpack_object *o;
	int fd = open(tmp("empty"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	close(fd);
	CHECK(trace_reader_open(&r, tmp("empty")) == 0, "open");
	CHECK(trace_next(&r, &o) == TRACE_EOF, "empty is EOF");
	trace_reader_close(&r);
	CHECK(trace_reader_open(&r, tmp("nope")) < 0, "missing file");
}

/* Declared sizes far beyond the file must not be believed. */
static void hostile_sizes(void)
{
	static const unsigned char arr32[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01 };
	static const unsigned char map32[] = { 0xdf, 0x7f, 0xff, 0xff, 0xff };
	static const unsigned char bin32[] = { 0xc6, 0xff, 0xff, 0xff, 0xf0, 0x00 };
	static const unsigned char never[] = { 0x91, 0xc1 };
	const struct {
		const unsigned char *p;
		size_t n;
		int want;
	} cases[] = {
		{ arr32, sizeof(arr32), TRACE_CORRUPT },
		{ map32, sizeof(map32), TRACE_CORRUPT },
		{ bin32, sizeof(bin32), TRACE_TRUNCATED },
		{ never, sizeof(never), TRACE_CORRUPT },
	};
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct trace_reader r;
		const msgpack_object *o;
		int fd = open(tmp("hostile"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int st;

		CHECK(fd >= 0 && write(fd, cases[i].p, cases[i].n) == (ssize_t)cases[i].n, "write");
		close(fd);
		CHECK(trace_reader_open(&r, tmp("hostile")) == 0, "open");
		st = trace_next(&r, &o);
		CHECK(st == cases[i].want, "case %zu: status %d, want %d", i, st, cases[i].want);
		trace_reader_close(&r);
	}
	CHECK(mp_skim((const unsigned char *)"\x92\x01\xa1x", 4, &len) == 1 && len == 4, "skim");
	CHECK(mp_skim((const unsigned char *)"\x92\x01", 2, &len) == 0, "skim partial");
}

static void file_mode_is_private(void)
{
	struct stat st;

	write_sample(tmp("mode"), 1);
	CHECK(stat(tmp("mode"), &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
}

static void sha256_vectors(void)
{
	static const struct {
		const char *in;
		const char *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct sha256 s;
		unsigned char out[32];
		struct sbuf hex = SBUF_INIT;

		sha256_init(&s);
		sha256_update(&s, v[i].in, strlen(v[i].in));
		sha256_final(&s, out);
		sbuf_add_hex(&hex, out, 32);
		CHECK(!strcmp(hex.buf, v[i].hex), "sha256(\"%s\") = %s", v[i].in, hex.buf);
		sbuf_release(&hex);
	}
}

/* The CPU's SHA instructions (when it has them) and the C rounds give
 * the same digests, for every length around block boundaries and for
 * FIPS 180-4's million a's, fed whole and in odd pieces. */
static void sha256_both_paths(void)
{
	static unsigned char data[1000000];
	unsigned char out[2][32];
	struct sha256 s;
	struct sbuf hex = SBUF_INIT;
	uint32_t x = 12345;
	size_t i, n, off;
	int ni;

	for (i = 0; i < sizeof(data); i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 16);
	}
	for (n = 0; n < 300; n++)
		for (ni = 0; ni < 2; ni++) {
			sha256_init(&s);
			s.ni = ni && s.ni;
			for (off = 0; off < n; off += 37)
				sha256_update(&s, data + off, n - off < 37 ? n - off : 37);
			sha256_final(&s, out[ni]);
			if (ni)
				CHECK(!memcmp(out[0], out[1], 32), "the two paths differ at length %zu", n);
		}
	memset(data, 'a', sizeof(data));
	for (ni = 0; ni < 2; ni++) {
		sha256_init(&s);
		s.ni = ni && s.ni;
		sha256_update(&s, data, 3);
		sha256_update(&s, data + 3, sizeof(data) - 3);
		sha256_final(&s, out[ni]);
		sbuf_reset(&hex);
		sbuf_add_hex(&hex, out[ni], 32);
		CHECK(!strcmp(hex.buf, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
		      "sha256 of a million a's (%s) = %s", ni ? "SHA instructions" : "C", hex.buf);
	}
	sbuf_release(&hex);
}

static void json_strings(void)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_add_json_str(&sb, "a\"\n\xff\xc3\xa9", 6);
	CHECK(!strcmp(sb.buf, "\"a\\\"\\n\\u00ff\xc3\xa9\""), "got %s", sb.buf);
	sbuf_release(&sb);
}

int main(void)
{
	T.suite = "codec";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(round_trip);
	RUN(truncated);
	RUN(corrupt);
	RUN(empty_and_missing);
	RUN(hostile_sizes);
	RUN(file_mode_is_private);
	RUN(sha256_vectors);
	RUN(sha256_both_paths);
	RUN(json_strings);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return T.any_failed;
}
