/* Small helpers shared by every part of gorr: messages, allocation, a
 * growable string buffer.  Error messages follow git's style: lowercase,
 * prefixed with "gorr: ", quoting the subject they are about. */
#ifndef GORR_UTIL_H
#define GORR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdarg.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define GORR_VERSION "0.1.0"

/* Exit statuses of gorr's own failures.  record/run/replay exit with the
 * tracee's status, so gorr's own failures use 125 (as env(1) and
 * timeout(1) do) to stay distinguishable from most program statuses;
 * usage errors exit 2 before anything runs. */
enum {
	EXIT_GORR_USAGE = 2,
	EXIT_GORR_LEAKS = 123,	/* --leaks: goroutines left blocked at a clean exit */
	EXIT_GORR_HANG = 124,	/* every thread waits forever (as timeout(1)) */
	EXIT_GORR_FAILURE = 125,
};

void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Callers decide whether a notice is wanted (the session's quiet flag). */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* A growable NUL-terminated buffer, in the manner of git's strbuf. */
struct sbuf {
	char *buf;
	size_t len, alloc;
};
#define SBUF_INIT { NULL, 0, 0 }
void sbuf_init(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
void sbuf_grow(struct sbuf *sb, size_t extra);
void sbuf_add(struct sbuf *sb, const void *data, size_t n);
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap);
/* Append data as a C-style quoted string ("ab\n\x01"), at most max bytes
 * of it, followed by "..." when it was cut. */
void sbuf_add_quoted(struct sbuf *sb, const void *data, size_t n, size_t max);
/* Append data as a JSON string (UTF-8 passed through where valid, other
 * bytes as \u00XX). */
void sbuf_add_json_str(struct sbuf *sb, const void *data, size_t n);
void sbuf_add_hex(struct sbuf *sb, const void *data, size_t n);

/* Parse a duration as Go writes them ("1h", "10m", "1.5s", "20ms", "300us",
 * "50ns"; several units may follow each other: "1m30s") into ns. */
int parse_duration(const char *s, int64_t *ns);
/* Format ns as a Go-style duration ("1h0m0s", "20ms"). */
void sbuf_add_duration(struct sbuf *sb, int64_t ns);

/* Parse an unsigned decimal (or 0x hex) number; -EINVAL when s is not one. */
int parse_u64(const char *s, uint64_t *out);

/* Create the directory path and every missing parent, as mkdir -p does;
 * 0 (also when it exists as a directory) or a negative errno. */
int mkdir_p(const char *path, unsigned int mode);

/* FNV-1a over n bytes, going on from h (FNV1A_INIT to begin): a cheap
 * hash for tables and for telling states apart, not a digest. */
#define FNV1A_INIT 14695981039346656037ULL

static inline uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

/* gorr's cache (README, "Goroutines"): small files that spare a run work
 * an earlier run did on the same binary, in $GORR_CACHE_DIR ("" or "off":
 * none), else $XDG_CACHE_HOME/gorr, else ~/.cache/gorr.  cache_read_all
 * appends the whole file named name to sb (-ENOENT without a cache);
 * cache_write writes the whole file under a temporary name and renames
 * it, so that parallel runs read whole files.  0 or a negative errno. */
/* Append to sb what names this build of gorr in cache files whose
 * contents its code computes (the decision points, the runtime layout):
 * its GNU build ID's first 8 bytes in hex, else the size and modification
 * time of /proc/self/exe; so that a rebuilt gorr computes them again. */
void cache_add_build(struct sbuf *sb);
int cache_read_all(const char *name, struct sbuf *sb);
int cache_write(const char *name, const void *buf, size_t len);
/* The SHA-256 of the file at path, kept in the cache under its device,
 * inode, size, modification and change times (as git's index skips
 * hashing an unchanged file): a hunt starts a run per seed on the same
 * binary.  0 or a negative errno. */
int sha256_file_cached(const char *path, unsigned char out[32]);

/* Write all n bytes, again after a short write or EINTR (gorr's timeslice
 * SIGALRM has no SA_RESTART, so a write to a full pipe can be cut); 0 or
 * a negative errno. */
int write_full(int fd, const void *data, size_t n);
/* Append the whole of the file at path to sb; 0 or a negative errno. */
int read_file(const char *path, struct sbuf *sb);

/* Copy the file from to the file to (made, or truncated), with from's
 * permission bits and the owner's rwx; 0 or a negative errno. */
int copy_file(const char *from, const char *to);

/* A program run from a path it does not lie at (gorr run --as, a replay
 * of a trace whose program was saved beside it): its copy is put at the
 * path for the run, with any folders missing on the way, and removed
 * afterwards, so that what the program reads of its own path (argv[0],
 * /proc/self/exe, /proc/self/maps, which glibc reads) is the same as
 * where it was first run (issue 16). */
struct standin {
	char *path;		/* the file put there, NULL when none was */
	char *top;		/* the outermost folder made for it, or NULL */
};
/* Make path hold the file from: nothing to do when it already holds the
 * same bytes (SHA-256); refused (-EEXIST) when it holds another file.
 * 0 or a negative errno, after saying what is wrong. */
int standin_place(struct standin *st, const char *path, const char *from);
/* Remove what standin_place put there. */
void standin_remove(struct standin *st);

/* Whether signal sig with si_code code is a fault of the instruction at
 * the thread's pc (the kernel's own, si_code > 0), which the thread
 * raises again when it runs that instruction, rather than one sent. */
int sig_is_fault(int sig, int code);

/* qsort/bsearch order of uint64_t values. */
int cmp_u64(const void *a, const void *b);
/* Sort v and drop repeats; the new count. */
size_t sort_unique_u64(uint64_t *v, size_t n);

#endif
