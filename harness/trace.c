#define _GNU_SOURCE
#include "trace.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int trace_writer_open(struct trace_writer *w, const char *path)
{
	memset(w, 0, sizeof(*w));
	if (!strcmp(path, "-")) {
		w->fd = dup(1);
	} else {
		w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	if (w->fd < 0)
		return -errno;
	w->path = xstrdup(path);
	msgpack_sbuffer_init(&w->sbuf);
	msgpack_packer_init(&w->pk, &w->sbuf, msgpack_sbuffer_write);
	return 0;
}

msgpack_packer *trace_begin(struct trace_writer *w)
{
	msgpack_sbuffer_clear(&w->sbuf);
	return &w->pk;
}

int trace_commit(struct trace_writer *w)
{
	const char *p = w->sbuf.data;
	size_t left = w->sbuf.size;

	if (w->failed)
		return -EIO;
	while (left) {
		ssize_t n = write(w->fd, p, left);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			w->failed = 1;
			error("cannot write trace '%s': %s", w->path, strerror(errno));
			return -errno;
		}
		p += n;
		left -= (size_t)n;
	}
	w->bytes += w->sbuf.size;
	w->objects++;
	return 0;
}

int trace_writer_close(struct trace_writer *w)
{
	int err = 0;

	if (w->fd >= 0 && close(w->fd) < 0 && !w->failed) {
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
	if (!msgpack_unpacker_init(&r->up, 1 << 16)) {
		close(r->fd);
		return -ENOMEM;
	}
	msgpack_unpacked_init(&r->result);
	return 0;
}

enum trace_status trace_next(struct trace_reader *r, const msgpack_object **obj)
{
	for (;;) {
		msgpack_unpack_return ret = msgpack_unpacker_next(&r->up, &r->result);
		ssize_t n;

		if (ret == MSGPACK_UNPACK_SUCCESS) {
			r->objects++;
			*obj = &r->result.data;
			return TRACE_OBJECT;
		}
		if (ret == MSGPACK_UNPACK_PARSE_ERROR)
			return TRACE_CORRUPT;
		if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
			return TRACE_CORRUPT;
		/* MSGPACK_UNPACK_CONTINUE: more bytes needed. */
		if (r->eof)
			return msgpack_unpacker_message_size(&r->up) ? TRACE_TRUNCATED : TRACE_EOF;
		if (msgpack_unpacker_message_size(&r->up) > TRACE_MAX_OBJECT)
			return TRACE_CORRUPT;
		if (msgpack_unpacker_buffer_capacity(&r->up) < 65536 &&
		    !msgpack_unpacker_reserve_buffer(&r->up, 65536))
			return TRACE_CORRUPT;
		do {
			n = read(r->fd, msgpack_unpacker_buffer(&r->up),
				 msgpack_unpacker_buffer_capacity(&r->up));
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			r->err = errno;
			return TRACE_IOERR;
		}
		if (n == 0)
			r->eof = 1;
		else
			msgpack_unpacker_buffer_consumed(&r->up, (size_t)n);
	}
}

void trace_reader_close(struct trace_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	msgpack_unpacked_destroy(&r->result);
	msgpack_unpacker_destroy(&r->up);
	free(r->path);
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
