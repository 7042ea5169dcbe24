#define _GNU_SOURCE
#include "harness/trace/trace.h"
#include "harness/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int trace_writer_open(struct trace_writer *w, const char *path)
{
	memset(w, 0, sizeof(*w));
	if (!path) {
		/* No file: objects are counted and dropped. */
		w->fd = -1;
	} else if (!strcmp(path, "-")) {
		w->fd = dup(1);
	} else {
		w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	if (path && w->fd < 0)
		return -errno;
	w->path = xstrdup(path ? path : "(none)");
	msgpack_sbuffer_init(&w->sbuf);
	msgpack_packer_init(&w->pk, &w->sbuf, msgpack_sbuffer_write);
	return 0;
}

msgpack_packer *trace_begin(struct trace_writer *w)
{
	/* An object begun and never committed is dropped. */
	w->sbuf.size = w->committed;
	return &w->pk;
}

int trace_flush(struct trace_writer *w)
{
	int err = 0;

	if (w->fd >= 0 && w->committed && !w->failed &&
	    (err = write_full(w->fd, w->sbuf.data, w->committed))) {
		w->failed = 1;
		error("cannot write trace '%s': %s", w->path, strerror(-err));
	}
	msgpack_sbuffer_clear(&w->sbuf);
	w->committed = 0;
	return w->failed ? -EIO : 0;
}

int trace_commit(struct trace_writer *w)
{
	if (w->failed)
		return -EIO;
	w->bytes += w->sbuf.size - w->committed;
	w->committed = w->sbuf.size;
	w->objects++;
	if (w->committed >= TRACE_BUFFER)
		return trace_flush(w);
	return 0;
}

int trace_writer_close(struct trace_writer *w)
{
	int err = trace_flush(w) == 0 ? 0 : -EIO;

	if (w->fd >= 0 && close(w->fd) < 0 && !w->failed && !err) {
		err = -errno;
		error("cannot write trace '%s': %s", w->path, strerror(errno));
	}
	w->fd = -1;
	msgpack_sbuffer_destroy(&w->sbuf);
	free(w->path);
	w->path = NULL;
	return w->failed ? -EIO : err;
}

void mp_strn(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void mp_str(msgpack_packer *pk, const char *s)
{
	mp_strn(pk, s, strlen(s));
}

void mp_bin(msgpack_packer *pk, const void *p, size_t n)
{
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, p, n);
}

void mp_kstr(msgpack_packer *pk, const char *key, const char *val)
{
	mp_str(pk, key);
	mp_str(pk, val);
}

void mp_kint(msgpack_packer *pk, const char *key, int64_t val)
{
	mp_str(pk, key);
	msgpack_pack_int64(pk, val);
}

void mp_kuint(msgpack_packer *pk, const char *key, uint64_t val)
{
	mp_str(pk, key);
	msgpack_pack_uint64(pk, val);
}

void mp_kbool(msgpack_packer *pk, const char *key, int val)
{
	mp_str(pk, key);
	if (val)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void mp_kbin(msgpack_packer *pk, const char *key, const void *p, size_t n)
{
	mp_str(pk, key);
	mp_bin(pk, p, n);
}

/* Largest single object the reader accepts: a syscall can write at most
 * 2 GiB, but a trace object that large is far more likely damage. */
#define TRACE_MAX_OBJECT (256u << 20)

int trace_reader_open(struct trace_reader *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (r->fd < 0)
		return -errno;
	r->path = xstrdup(path);
	r->cap = 1 << 16;
	r->buf = xmalloc(r->cap);
	msgpack_unpacked_init(&r->result);
	return 0;
}

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int mp_skim(const unsigned char *buf, size_t n, size_t *len)
{
	uint64_t pending = 1;	/* objects still to walk */
	size_t off = 0;

	while (pending) {
		unsigned int b;
		uint64_t size = 0, children = 0;
		int hdr = 1;

		if (off >= n)
			return 0;
		b = buf[off];
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
			/* fixint, nil, booleans */
		} else if (b <= 0x8f) {
			children = 2 * (uint64_t)(b & 0x0f);
		} else if (b <= 0x9f) {
			children = b & 0x0f;
		} else if (b <= 0xbf) {
			size = b & 0x1f;
		} else if (b == 0xc1) {
			return -1;
		} else {
			/* Headers with a length field: width of the field. */
			static const signed char w[] = {
				[0xc4 - 0xc4] = 1, 2, 4,	/* bin 8/16/32 */
				[0xc7 - 0xc4] = 1, 2, 4,	/* ext 8/16/32 */
				[0xd9 - 0xc4] = 1, 2, 4,	/* str 8/16/32 */
				[0xdc - 0xc4] = 2, 4,		/* array 16/32 */
				[0xde - 0xc4] = 2, 4,		/* map 16/32 */
			};
			/* Fixed payload sizes: float, ints, fixext. */
			static const signed char fixed[] = {
				[0xca - 0xc4] = 4, 8, 1, 2, 4, 8, 1, 2, 4, 8,
				[0xd4 - 0xc4] = 2, 3, 5, 9, 17,	/* fixext + type byte */
			};
			int fw = w[b - 0xc4];

			if (fw) {
				if (off + 1 + (size_t)fw > n)
					return 0;
				size = be(buf + off + 1, fw);
				hdr = 1 + fw;
				if (b >= 0xc7 && b <= 0xc9)
					size += 1;	/* ext type byte */
				if (b == 0xdc || b == 0xdd) {
					children = size;
					size = 0;
				} else if (b == 0xde || b == 0xdf) {
					children = 2 * size;
					size = 0;
				}
			} else {
				size = (uint64_t)fixed[b - 0xc4];
			}
		}
		if (size > n || off + hdr + size > n)
			return 0;
		off += hdr + (size_t)size;
		pending = pending - 1 + children;
		/* Every pending object needs at least one more byte. */
		if (pending > TRACE_MAX_OBJECT)
			return -1;
	}
	*len = off;
	return 1;
}

enum trace_status trace_next(struct trace_reader *r, const msgpack_object **obj)
{
	/* The object returned last points into buf: drop it only now. */
	r->start += r->last_len;
	r->last_len = 0;
	for (;;) {
		size_t len = 0, off = 0;
		ssize_t n;
		int k = mp_skim((const unsigned char *)r->buf + r->start, r->end - r->start, &len);

		if (k < 0)
			return TRACE_CORRUPT;
		if (k > 0) {
			if (msgpack_unpack_next(&r->result, r->buf + r->start, len, &off) !=
			    MSGPACK_UNPACK_SUCCESS || off != len)
				return TRACE_CORRUPT;
			r->last_len = len;
			r->objects++;
			*obj = &r->result.data;
			return TRACE_OBJECT;
		}
		if (r->eof)
			return r->end > r->start ? TRACE_TRUNCATED : TRACE_EOF;
		if (r->end - r->start > TRACE_MAX_OBJECT)
			return TRACE_CORRUPT;
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->cap - r->end < 65536) {
			r->cap *= 2;
			r->buf = xrealloc(r->buf, r->cap);
		}
		do {
			n = read(r->fd, r->buf + r->end, r->cap - r->end);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			r->err = errno;
			return TRACE_IOERR;
		}
		if (n == 0)
			r->eof = 1;
		r->end += (size_t)n;
	}
}

void trace_reader_close(struct trace_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	msgpack_unpacked_destroy(&r->result);
	free(r->buf);
	free(r->path);
	r->buf = NULL;
	r->path = NULL;
	r->fd = -1;
}

const msgpack_object *mp_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i;

	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    !memcmp(k->via.str.ptr, key, klen))
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int64_t mp_get_int(const msgpack_object *map, const char *key, int64_t dflt)
{
	const msgpack_object *o = mp_get(map, key);

	if (!o)
		return dflt;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (int64_t)o->via.u64;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	return dflt;
}

uint64_t mp_get_uint(const msgpack_object *map, const char *key, uint64_t dflt)
{
	const msgpack_object *o = mp_get(map, key);

	if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return o->via.u64;
	if (o && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return (uint64_t)o->via.i64;
	return dflt;
}

const char *mp_get_raw(const msgpack_object *map, const char *key, uint32_t *len)
{
	const msgpack_object *o = mp_get(map, key);

	if (o && o->type == MSGPACK_OBJECT_STR) {
		*len = o->via.str.size;
		return o->via.str.ptr;
	}
	if (o && o->type == MSGPACK_OBJECT_BIN) {
		*len = o->via.bin.size;
		return o->via.bin.ptr;
	}
	return NULL;
}

int mp_is_str(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       !memcmp(o->via.str.ptr, s, n);
}
