/* What the fuzz targets share: the input as a file.  gorr's readers take
 * paths (the trace reader, gobin_open, plan files), so each input is
 * written to one memfd, reopened through /proc/self/fd. */
#ifndef GORR_FUZZ_H
#define GORR_FUZZ_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The path of a file holding data (the same file for every input). */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("gorr-fuzz", 0);
		if (fd < 0) {
			perror("memfd_create");
			_exit(1);
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("memfd write");
		_exit(1);
	}
	return path;
}

#endif
