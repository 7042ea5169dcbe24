/* The trace codec: a trace is a stream of msgpack objects, a header map
 * first, then one map per event (docs/trace-format.md is the spec).
 * The writer sends each object to the file with one write(2) as soon as
 * it is complete, so a recording that is killed leaves every finished
 * event readable.  The reader streams: it holds one object at a time,
 * whatever the trace's size. */
#ifndef GORR_TRACE_H
#define GORR_TRACE_H

#include <msgpack.h>
#include <stdint.h>
#include <sys/types.h>

#define TRACE_MAGIC "gorr"
#define TRACE_VERSION 1

struct trace_writer {
	int fd;
	char *path;
	msgpack_sbuffer sbuf;
	msgpack_packer pk;
	uint64_t objects;	/* written so far, header included */
	uint64_t bytes;
	size_t committed;	/* bytes of whole objects in sbuf, not yet written */
	int failed;		/* a write failed; the error was reported */
};

/* Objects are written TRACE_BUFFER bytes at a time, and by trace_flush:
 * one write(2) per event was the recorder's most frequent syscall (69,556
 * for 73,936 events of examples/httploop).  The recorder flushes whenever
 * gorr is about to wait with the program running or idle
 * (engine_ops.flush), so that a gorr killed with SIGKILL leaves all but
 * the last moments of the trace. */
#define TRACE_BUFFER (64 * 1024)

/* Create path (mode 0600, truncating) for writing; "-" is stdout, NULL
 * writes nothing. */
int trace_writer_open(struct trace_writer *w, const char *path);
/* Start an object: returns the packer to pack one map into. */
msgpack_packer *trace_begin(struct trace_writer *w);
/* Write the object packed since trace_begin; 0 or a negative errno. */
int trace_commit(struct trace_writer *w);
/* Write what was committed; 0 or -EIO (reported once). */
int trace_flush(struct trace_writer *w);
int trace_writer_close(struct trace_writer *w);

/* Packing helpers for maps with string keys. */
void mp_str(msgpack_packer *pk, const char *s);
void mp_strn(msgpack_packer *pk, const char *s, size_t n);
void mp_bin(msgpack_packer *pk, const void *p, size_t n);
void mp_kstr(msgpack_packer *pk, const char *key, const char *val);
void mp_kint(msgpack_packer *pk, const char *key, int64_t val);
void mp_kuint(msgpack_packer *pk, const char *key, uint64_t val);
void mp_kbool(msgpack_packer *pk, const char *key, int val);
void mp_kbin(msgpack_packer *pk, const char *key, const void *p, size_t n);

enum trace_status {
	TRACE_OBJECT = 1,	/* *obj is the next object */
	TRACE_EOF = 0,		/* the file ended after a whole object */
	TRACE_TRUNCATED = -1,	/* the file ended inside an object */
	TRACE_CORRUPT = -2,	/* bytes that are not msgpack */
	TRACE_IOERR = -3,
};

struct trace_reader {
	int fd;
	char *path;
	char *buf;		/* bytes read, [start, end) not yet returned */
	size_t start, end, cap;
	size_t last_len;	/* length of the object last returned */
	msgpack_unpacked result;
	uint64_t objects;	/* returned so far */
	int eof;
	int err;		/* errno of an I/O error */
};

int trace_reader_open(struct trace_reader *r, const char *path);
/* The next object; it stays valid until the next call. */
enum trace_status trace_next(struct trace_reader *r, const msgpack_object **obj);
void trace_reader_close(struct trace_reader *r);

/* Check that buf holds one whole msgpack object without allocating
 * anything: 1 (and its length in *len) when it does, 0 when more bytes
 * are needed, -1 when the bytes cannot be msgpack.  The trace reader
 * skims before it lets msgpack-c parse, so that sizes declared in a
 * damaged file cannot make it allocate more than the file holds. */
int mp_skim(const unsigned char *buf, size_t n, size_t *len);

/* Access to decoded maps: the value of key, or NULL. */
const msgpack_object *mp_get(const msgpack_object *map, const char *key);
/* Typed access with a default when the key is missing or of another type. */
int64_t mp_get_int(const msgpack_object *map, const char *key, int64_t dflt);
uint64_t mp_get_uint(const msgpack_object *map, const char *key, uint64_t dflt);
/* String or binary value: pointer and length, or NULL. */
const char *mp_get_raw(const msgpack_object *map, const char *key, uint32_t *len);
int mp_is_str(const msgpack_object *o, const char *s);

#endif
