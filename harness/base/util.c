#define _GNU_SOURCE
#include "harness/base/util.h"

#include <dirent.h>
#include <elf.h>
#include <link.h>
#include <errno.h>
#include "harness/base/sha256.h"
#include <fcntl.h>
#include <stddef.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One write so that lines from several gorr processes (hunt -j)
	 * do not interleave mid-line. */
	fprintf(stderr, "gorr: %s%s\n", prefix, msg);
}

void error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("notice: ", fmt, ap);
	va_end(ap);
}

static void oom(void)
{
	fputs("gorr: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

void sbuf_init(struct sbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

void sbuf_release(struct sbuf *sb)
{
	free(sb->buf);
	sbuf_init(sb);
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sbuf_grow(struct sbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need <= sb->alloc)
		return;
	sb->alloc = sb->alloc ? sb->alloc : 64;
	while (sb->alloc < need)
		sb->alloc *= 2;
	sb->buf = xrealloc(sb->buf, sb->alloc);
}

void sbuf_add(struct sbuf *sb, const void *data, size_t n)
{
	sbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sbuf_addc(struct sbuf *sb, char c)
{
	sbuf_add(sb, &c, 1);
}

void sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	sbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void sbuf_add_quoted(struct sbuf *sb, const void *data, size_t n, size_t max)
{
	const unsigned char *p = data;
	size_t i, m = n < max ? n : max;

	sbuf_addc(sb, '"');
	for (i = 0; i < m; i++) {
		unsigned char c = p[i];

		switch (c) {
		case '\n': sbuf_adds(sb, "\\n"); break;
		case '\t': sbuf_adds(sb, "\\t"); break;
		case '\r': sbuf_adds(sb, "\\r"); break;
		case '"': sbuf_adds(sb, "\\\""); break;
		case '\\': sbuf_adds(sb, "\\\\"); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				sbuf_addc(sb, (char)c);
			else
				sbuf_addf(sb, "\\x%02x", c);
		}
	}
	sbuf_addc(sb, '"');
	if (m < n)
		sbuf_adds(sb, "...");
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void sbuf_add_json_str(struct sbuf *sb, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i = 0;

	sbuf_addc(sb, '"');
	while (i < n) {
		unsigned char c = p[i];
		size_t l;

		if (c == '"' || c == '\\') {
			sbuf_addc(sb, '\\');
			sbuf_addc(sb, (char)c);
			i++;
		} else if (c == '\n') {
			sbuf_adds(sb, "\\n");
			i++;
		} else if (c == '\t') {
			sbuf_adds(sb, "\\t");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sbuf_addf(sb, "\\u%04x", c);
			i++;
		} else if ((l = utf8_len(p + i, n - i)) > 0) {
			sbuf_add(sb, p + i, l);
			i += l;
		} else {
			/* Not UTF-8: keep the byte value visible. */
			sbuf_addf(sb, "\\u%04x", c);
			i++;
		}
	}
	sbuf_addc(sb, '"');
}

void sbuf_add_hex(struct sbuf *sb, const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i;

	sbuf_grow(sb, 2 * n);
	for (i = 0; i < n; i++) {
		sb->buf[sb->len++] = digits[p[i] >> 4];
		sb->buf[sb->len++] = digits[p[i] & 15];
	}
	sb->buf[sb->len] = '\0';
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *unit;
		double scale;
	} units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	double total = 0;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		size_t i, best = 0, bestlen = 0;

		/* strtod takes "nan" and "inf" too: not durations (libFuzzer
		 * found "nanms", whose NaN then made a bad conversion). */
		if (end == s || !(v >= 0) || v > 1e300)
			return -EINVAL;
		s = end;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);

			if (!strncmp(s, units[i].unit, l) && l > bestlen) {
				best = i;
				bestlen = l;
			}
		}
		if (!bestlen)
			return -EINVAL;
		total += v * units[best].scale;
		s += bestlen;
	}
	if (total > 9.2e18)
		return -ERANGE;
	*ns = (int64_t)total;
	return 0;
}

/* As Go's time.Duration.String: 10m0s, 1h0m0.5s, 1.5s, 20ms. */
void sbuf_add_duration(struct sbuf *sb, int64_t ns)
{
	char sec[32];
	size_t n;

	if (ns < 1000)
		sbuf_addf(sb, "%lldns", (long long)ns);
	else if (ns < 1000000)
		sbuf_addf(sb, "%gus", (double)ns / 1e3);
	else if (ns < 1000000000)
		sbuf_addf(sb, "%gms", (double)ns / 1e6);
	else {
		/* Whole seconds and up to nine decimals, trailing zeros cut. */
		snprintf(sec, sizeof(sec), "%lld.%09lld", (long long)(ns / 1000000000LL % 60),
			 (long long)(ns % 1000000000LL));
		n = strlen(sec);
		while (sec[n - 1] == '0')
			sec[--n] = '\0';
		if (sec[n - 1] == '.')
			sec[--n] = '\0';
		if (ns >= 3600000000000LL)
			sbuf_addf(sb, "%lldh", (long long)(ns / 3600000000000LL));
		if (ns >= 60000000000LL)
			sbuf_addf(sb, "%lldm", (long long)(ns / 60000000000LL % 60));
		sbuf_addf(sb, "%ss", sec);
	}
}

int mkdir_p(const char *path, unsigned int mode)
{
	char buf[4096];
	size_t len = strlen(path), i;
	struct stat st;

	if (!len || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i])
			continue;
		buf[i] = '\0';
		if (mkdir(buf, (mode_t)mode) && errno != EEXIST)
			return -errno;
		buf[i] = i < len ? '/' : '\0';
	}
	if (stat(path, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int cache_path(const char *name, struct sbuf *path)
{
	const char *dir = getenv("GORR_CACHE_DIR"), *home;

	if (dir && (!*dir || !strcmp(dir, "off")))
		return -ENOENT;
	if (dir)
		sbuf_adds(path, dir);
	else if ((home = getenv("XDG_CACHE_HOME")) && *home == '/')
		sbuf_addf(path, "%s/gorr", home);
	else if ((home = getenv("HOME")) && *home == '/')
		sbuf_addf(path, "%s/.cache/gorr", home);
	else
		return -ENOENT;
	sbuf_addf(path, "/%s", name);
	return 0;
}

/* The cache keeps its newest CACHE_FILES files: each new binary a run
 * meets adds two (a few hundred bytes), and a write is a miss, rare next
 * to the reads, so the folder is looked over at each one. */
#define CACHE_FILES 1000

struct cache_ent {
	int64_t mtime;
	char name[256];
};

static int cmp_cache_ent(const void *a, const void *b)
{
	const struct cache_ent *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

static void cache_trim(const char *dir)
{
	struct cache_ent *ents = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *d;
	struct stat st;
	DIR *dp = opendir(dir);
	int fd;

	if (!dp)
		return;
	fd = dirfd(dp);
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.' || strlen(d->d_name) >= sizeof(ents->name) ||
		    fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (n == cap)
			ents = xrealloc(ents, (cap = cap ? 2 * cap : 256) * sizeof(*ents));
		ents[n].mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		strcpy(ents[n++].name, d->d_name);
	}
	if (n > CACHE_FILES) {
		qsort(ents, n, sizeof(*ents), cmp_cache_ent);
		for (i = 0; i < n - CACHE_FILES; i++)
			unlinkat(fd, ents[i].name, 0);
	}
	closedir(dp);
	free(ents);
}

/* dl_iterate_phdr's first object is the program itself (dlpi_name ""):
 * its PT_NOTE segments hold the NT_GNU_BUILD_ID note the linker wrote. */
static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
	struct sbuf *sb = data;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const unsigned char *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const void *)p;
			const unsigned char *desc = p + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u);

			if (desc + nh->n_descsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(p + sizeof(*nh), "GNU", 4) && nh->n_descsz >= 8) {
				sbuf_add_hex(sb, desc, 8);
				return 1;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 1;	/* only the first object */
}

void cache_add_build(struct sbuf *sb)
{
	size_t before = sb->len;
	struct stat st;

	dl_iterate_phdr(find_build_id, sb);
	if (sb->len == before && stat("/proc/self/exe", &st) == 0)
		sbuf_addf(sb, "%llx-%llx", (unsigned long long)st.st_size,
			  (unsigned long long)st.st_mtim.tv_sec);
}

int cache_read_all(const char *name, struct sbuf *sb)
{
	struct sbuf path = SBUF_INIT;
	int err = cache_path(name, &path);

	if (!err)
		err = read_file(path.buf, sb);
	sbuf_release(&path);
	return err;
}

int cache_write(const char *name, const void *buf, size_t len)
{
	struct sbuf path = SBUF_INIT, tmp = SBUF_INIT;
	int err, fd;

	if ((err = cache_path(name, &path)))
		goto out;
	sbuf_adds(&tmp, path.buf);
	*strrchr(tmp.buf, '/') = '\0';
	if ((err = mkdir_p(tmp.buf, 0700)))
		goto out;
	sbuf_reset(&tmp);
	sbuf_addf(&tmp, "%s.%d", path.buf, (int)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_full(fd, buf, len);
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp.buf, path.buf))
		err = -errno;
	if (err) {
		unlink(tmp.buf);
	} else {
		*strrchr(path.buf, '/') = '\0';
		cache_trim(path.buf);
	}
out:
	sbuf_release(&tmp);
	sbuf_release(&path);
	return err;
}

struct digest_entry {
	char magic[8];
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
	unsigned char digest[32];
};

int sha256_file_cached(const char *path, unsigned char out[32])
{
	struct digest_entry want, got;
	struct sbuf name = SBUF_INIT, data = SBUF_INIT;
	unsigned char key[32];
	struct sha256 h;
	struct stat st;
	int err;

	if (stat(path, &st))
		return -errno;
	memset(&want, 0, sizeof(want));
	memcpy(want.magic, "gorrsha1", 8);
	want.dev = st.st_dev;
	want.ino = st.st_ino;
	want.size = (uint64_t)st.st_size;
	want.mtime_sec = st.st_mtim.tv_sec;
	want.mtime_nsec = st.st_mtim.tv_nsec;
	want.ctime_sec = st.st_ctim.tv_sec;
	want.ctime_nsec = st.st_ctim.tv_nsec;
	sha256_init(&h);
	sha256_update(&h, &want, offsetof(struct digest_entry, digest));
	sha256_final(&h, key);
	sbuf_adds(&name, "digest-");
	sbuf_add_hex(&name, key, 16);
	if (cache_read_all(name.buf, &data) == 0 && data.len == sizeof(got) &&
	    (memcpy(&got, data.buf, sizeof(got)),
	     !memcmp(&got, &want, offsetof(struct digest_entry, digest)))) {
		memcpy(out, got.digest, 32);
		sbuf_release(&data);
		sbuf_release(&name);
		return 0;
	}
	sbuf_release(&data);
	err = sha256_file(path, out);
	/* Only a file that did not change while it was hashed. */
	if (!err && stat(path, &st) == 0 && st.st_ctim.tv_sec == want.ctime_sec &&
	    st.st_ctim.tv_nsec == want.ctime_nsec && (uint64_t)st.st_size == want.size) {
		memcpy(want.digest, out, 32);
		cache_write(name.buf, &want, sizeof(want));
	}
	sbuf_release(&name);
	return err;
}

int write_full(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY | O_CLOEXEC), out, err = 0;
	ssize_t n;
	struct stat st;

	if (in < 0)
		return -errno;
	if (fstat(in, &st) < 0) {
		err = -errno;
		close(in);
		return err;
	}
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (st.st_mode & 0777) | 0700);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while (!err && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno != EINTR)
				err = -errno;
			continue;
		}
		err = write_full(out, buf, (size_t)n);
	}
	close(in);
	if (close(out) < 0 && !err)
		err = -errno;
	return err;
}

int read_file(const char *path, struct sbuf *sb)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		sbuf_add(sb, buf, (size_t)n);
	}
	close(fd);
	return err;
}

int standin_place(struct standin *st, const char *path, const char *from)
{
	unsigned char a[32], b[32];
	struct stat sb;
	char *dir, *slash;
	int err;

	st->path = st->top = NULL;
	if (path[0] != '/') {
		error("'%s': the path to run the program as must be absolute", path);
		return -EINVAL;
	}
	if (stat(path, &sb) == 0) {
		if (sha256_file(path, a) == 0 && sha256_file(from, b) == 0 && !memcmp(a, b, 32))
			return 0;
		error("'%s' exists and is not a copy of '%s': not replacing it", path, from);
		return -EEXIST;
	}
	/* The outermost missing folder, to remove afterwards. */
	dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	while (*dir && stat(dir, &sb) < 0 && errno == ENOENT) {
		free(st->top);
		st->top = xstrdup(dir);
		slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	free(dir);
	if (st->top) {
		dir = xstrdup(path);
		*strrchr(dir, '/') = '\0';
		err = mkdir_p(dir, 0755);
		free(dir);
		if (err) {
			error("cannot make the folders of '%s': %s", path, strerror(-err));
			standin_remove(st);
			return err;
		}
	}
	st->path = xstrdup(path);
	err = copy_file(from, path);
	if (err) {
		error("cannot copy '%s' to '%s': %s", from, path, strerror(-err));
		standin_remove(st);
		return err;
	}
	return 0;
}

void standin_remove(struct standin *st)
{
	char *dir, *slash;

	if (st->path)
		unlink(st->path);
	if (st->top && st->path) {
		/* The folders made for it, innermost first, up to the
		 * outermost; one holding anything else stays. */
		dir = xstrdup(st->path);
		while ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			if (strlen(dir) < strlen(st->top) || rmdir(dir) < 0)
				break;
		}
		free(dir);
	}
	free(st->path);
	free(st->top);
	st->path = st->top = NULL;
}

int sig_is_fault(int sig, int code)
{
	switch (sig) {
	case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP:
		return code > 0;
	}
	return 0;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t sort_unique_u64(uint64_t *v, size_t n)
{
	size_t i, m = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		if (!m || v[m - 1] != v[i])
			v[m++] = v[i];
	return m;
}
