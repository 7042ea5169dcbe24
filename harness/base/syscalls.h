/* The one syscall table (x86-64).  Like strace's syscallent, one line per
 * syscall gives its name, its arguments' kinds and its flags, and every
 * tool derives its behaviour from that line: the seccomp filter (which
 * calls stop), the recorder (which bytes a call wrote into the tracee),
 * the printer (how an argument looks), and later the replayer and the
 * injector.  No tool keeps its own switch over syscall numbers. */
#ifndef GORR_SYSCALLS_H
#define GORR_SYSCALLS_H

#include <stdint.h>
#include <stddef.h>

/* Argument kinds.  An OUT kind names memory the kernel writes; its size
 * is either fixed (sc_kind_size) or computed from other arguments and the
 * result by sc_outputs().  IN kinds with a pointer are captured at entry
 * for display only. */
enum sc_kind {
	A_NONE = 0,
	A_INT,		/* signed decimal */
	A_UINT,		/* unsigned decimal (sizes, counts) */
	A_HEX,		/* flags, masks, opaque values */
	A_PTR,		/* a pointer gorr does not follow */
	A_OCT,		/* file modes */
	A_FD,
	A_DIRFD,	/* fd or AT_FDCWD */
	A_PATH,		/* NUL-terminated input string (a file name) */
	A_STR,		/* NUL-terminated input string (other names) */
	A_ARGV,		/* NULL-terminated array of strings */
	A_IBUF,		/* input buffer, length in the next argument */
	A_OBUF,		/* output buffer, length = the result */
	A_IOV_IN,	/* struct iovec[next arg], input */
	A_IOV_OUT,	/* struct iovec[next arg], the result's bytes written */
	A_MSG_IN,	/* struct msghdr *, input */
	A_MSG_OUT,	/* struct msghdr *, recvmsg */
	A_SA_IN,	/* struct sockaddr *, length in the next argument */
	A_SA_OUT,	/* struct sockaddr *, length pointer in the next argument */
	A_SALEN,	/* socklen_t *, in and out */
	A_OPTVAL_OUT,	/* getsockopt value, length pointer in the next argument */
	A_TIMEOUT_MS,	/* int milliseconds, -1 for none (poll, epoll_wait) */
	A_TS_IN,	/* struct timespec *, input */
	A_TS_OUT,	/* struct timespec *, output */
	A_TS_REM,	/* remaining time, written only on EINTR */
	A_TS_UPD,	/* timeout the kernel updates (ppoll, pselect6) */
	A_TV_OUT,	/* struct timeval * */
	A_TV_UPD,	/* select's timeout, updated */
	A_TZ_OUT,	/* struct timezone * */
	A_ITS_IN,	/* struct itimerspec *, input */
	A_ITS_OUT,	/* struct itimerspec *, output */
	A_ITV_OUT,	/* struct itimerval *, output */
	A_STAT_OUT,
	A_STATX_OUT,
	A_STATFS_OUT,
	A_UTS_OUT,
	A_RUSAGE_OUT,
	A_SYSINFO_OUT,
	A_TMS_OUT,
	A_RLIM_IN,
	A_RLIM_OUT,
	A_INT_OUT,	/* int * */
	A_INT2_OUT,	/* int[2] (pipe, socketpair) */
	A_U64_OUT,	/* 64-bit output value */
	A_U64_UPD,	/* loff_t * offset, in and out */
	A_TIME_OUT,	/* time_t * */
	A_SIGINFO_OUT,
	A_SIGSET_OUT,	/* sigset, size in the next argument */
	A_CPUSET_OUT,	/* cpu mask, size = the result */
	A_EPEV_IN,	/* struct epoll_event *, input */
	A_EPEV_OUT,	/* struct epoll_event[result] */
	A_POLLFD,	/* struct pollfd[next arg], revents written */
	A_FDSET,	/* fd_set *, nfds in argument 0, in and out */
	A_GROUPS_OUT,	/* gid_t[result] */
	A_CAP_OUT,	/* capget data (two 12-byte structs) */
	A_MINCORE_OUT,	/* one byte per page of argument 1 */
	A_IOCTL_REQ,
	A_IOCTL_ARG,	/* meaning depends on the request */
	A_FCNTL_CMD,
	A_FCNTL_ARG,	/* meaning depends on the command */
	A_PRCTL_OP,
	A_PRCTL_ARG,	/* meaning depends on the option */
	A_FUTEX_OP,
	A_FUTEX_VAL2,	/* timeout or val2, depending on the op */
	A_CLOCK,
	A_OFLAGS,
	A_SIG,
	A_EPCTL_OP,
	A_WHENCE,
	A_CLONE_FLAGS,
	A_CLONE_PTID,	/* clone's parent_tid: a pidfd or tid is written there */
	A_MAPLEN,	/* mmap's length: a file-backed mapping's bytes are the output */
	A_PID,		/* a process or thread id (-N: process group N) */
	A_IDTYPE,	/* waitid's idtype: the next argument is a pid for P_PID, P_PGID */
	A_UNK,		/* memory the kernel writes in a way gorr does not describe */
	A__COUNT
};

/* Return value kinds. */
enum sc_ret {
	R_INT = 0,
	R_FD,
	R_HEX,
	R_OCT,
	R_NONE,		/* does not return (exit) */
	R_PID,		/* a process or thread id */
};

/* Flags, in the manner of strace's TD/TF/TN... */
enum {
	SF_FD = 1 << 0,		/* argument 0 is a file descriptor */
	SF_FILE = 1 << 1,	/* takes a file name */
	SF_NET = 1 << 2,	/* network */
	SF_SIGNAL = 1 << 3,	/* signal related */
	SF_MEMORY = 1 << 4,	/* memory mapping */
	SF_PROCESS = 1 << 5,	/* process/thread life cycle */
	SF_CLOCK = 1 << 6,	/* reads a clock */
	SF_RANDOM = 1 << 7,	/* a source of randomness */
	SF_BLOCK = 1 << 8,	/* may block indefinitely */
	/* Deterministic given the tracee's own state and not blocking:
	 * the recorder lets it run without a stop, replay re-executes it.
	 * Everything not marked DET is nondeterministic (its result or the
	 * bytes it writes depend on the outside world, time, or other
	 * threads) and is recorded. */
	SF_DET = 1 << 9,
	SF_UNCAPTURED = 1 << 10,	/* derived: some argument is A_UNK */
	SF_NOT_IMPL = 1 << 11,	/* the kernel has no such call (ENOSYS) */
	SF_OUT_POS = 1 << 12,	/* writes its outputs only when result > 0 */
	/* Reports the CPU mask: when gorr pins the tracee to one CPU it
	 * rewrites the result to the mask the program would have seen. */
	SF_CPUMASK = 1 << 13,
	SF_EXEC = 1 << 14,	/* replaces the program image (execve, execveat) */
	/* Scheduling classes (harness/sched/sched.c): how a call that may block
	 * is made to never block while its thread holds the token. */
	SF_FUTEX = 1 << 15,	/* futex: emulated in the tracer */
	SF_SLEEP = 1 << 16,	/* a sleep: parked until its deadline */
	SF_POLL = 1 << 17,	/* waits for fds with a timeout argument */
	SF_WAITCHILD = 1 << 18,	/* waits for a child: retried with WNOHANG */
	SF_FDIN = 1 << 19,	/* blocks until fd (argument 0) is readable */
	SF_FDOUT = 1 << 20,	/* blocks until fd (argument 0) is writable */
	SF_SENDSIG = 1 << 21,	/* sends a signal (kill, tgkill...) */
	SF_GROUPEXIT = 1 << 22,	/* ends every thread of the process (exit_group) */
	SF_CLOCKREAD = 1 << 23,	/* reads a clock's current value */
	SF_SPAWN = 1 << 24,	/* creates a thread or process (clone, fork...) */
	/* mmap: anonymous mappings are deterministic and never stop;
	 * file-backed ones stop, and the bytes mapped are recorded (replay
	 * maps them anonymously: the file's fd only existed in the
	 * recording). */
	SF_FILEMAP = 1 << 25,
	/* sched_yield: the thread asks for the others to run (the Go
	 * runtime's osyield in casgstatus's and lock2's spins): its
	 * timeslice ends there, which the serializing scheduler would
	 * otherwise only do when its budget is spent. */
	SF_YIELD = 1 << 26,
	/* Writes directory entries into argument 1 (getdents, getdents64:
	 * d_ino at offset 0, d_reclen at 16 in both layouts). */
	SF_DIRENTS = 1 << 27,
	/* Sets the working directory by name (chdir): replay makes it too,
	 * since the execs it makes for real resolve relative paths there
	 * (os/exec's Cmd.Dir: syscall/exec_linux.go chdirs in the child
	 * before execve). */
	SF_CWD = 1 << 28,
	/* May remove the file its last path names (its DIRFD before it,
	 * if any): unlink, rmdir, unlinkat, and rename's target.  Under
	 * run that file's inode number may come back for another file
	 * (harness/sched/virt.c forgets its virtual number). */
	SF_UNLINK = 1 << 29,
	/* May bind its socket (argument 0) to a port the kernel chooses,
	 * when the socket has none yet: bind (to port 0), connect, listen
	 * (harness/sched/virt.c gives such a port a virtual number of its
	 * own). */
	SF_BINDPORT = 1u << 30,
};

struct sc_desc {
	const char *name;
	uint8_t nargs;
	uint8_t ret;		/* enum sc_ret */
	uint32_t flags;
	uint8_t args[6];	/* enum sc_kind */
};

/* struct epoll_event on x86-64 is packed: 4 bytes of events, 8 of data
 * (include/uapi/linux/eventpoll.h, EPOLL_PACKED). */
#define SC_EPOLL_EVENT_SIZE 12

/* The table covers numbers 0..SC_TABLE_SIZE-1; holes have a NULL name. */
#define SC_TABLE_SIZE 468

/* The entry for nr, or NULL for numbers gorr does not know. */
const struct sc_desc *sc_lookup(long nr);
/* Name of nr, or NULL. */
const char *sc_name(long nr);
/* Number of name, or -1. */
long sc_number(const char *name);
/* The fixed size a kind occupies in memory, 0 when it is computed. */
size_t sc_kind_size(enum sc_kind k);
/* Whether a kind is an output (memory the kernel writes). */
int sc_kind_is_output(enum sc_kind k);
/* Whether a kind is an input whose pointee is captured at entry. */
int sc_kind_is_captured_input(enum sc_kind k);
/* Whether nr waits on an epoll fd (args[0]) and returns events at
 * args[1] (epoll_wait, epoll_pwait, epoll_pwait2): what the Go netpoller
 * calls. */
int sc_is_epoll_wait(long nr);

/* Memory the kernel wrote during one call, in the tracee's address space. */
struct sc_region {
	uint64_t addr;
	uint64_t len;
};

/* A way to read tracee memory: returns 0 or a negative errno. */
typedef int (*sc_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* The values at entry that sc_outputs needs and that the call itself
 * overwrites (socklen_t in/out arguments).  Filled by sc_save_entry. */
struct sc_entry_state {
	uint32_t inlen[6];
};

void sc_save_entry(const struct sc_desc *d, const uint64_t args[6],
		   struct sc_entry_state *st, sc_read_fn rd, void *ctx);

/* Compute the regions a call that returned ret wrote.  Appends up to max
 * regions to out and returns their number, or a negative errno if the
 * tracee's memory could not be read to work them out.  NULL pointers and
 * empty regions are skipped. */
int sc_outputs(long nr, const uint64_t args[6], int64_t ret,
	       const struct sc_entry_state *st, sc_read_fn rd, void *ctx,
	       struct sc_region *out, int max);

#define SC_MAX_REGIONS 64

/* Read a NUL-terminated string of at most max-1 bytes into buf (always
 * terminated).  Returns its length or a negative errno; *cut is set when
 * the string was longer. */
int sc_read_cstr(sc_read_fn rd, void *ctx, uint64_t addr, char *buf,
		 size_t max, int *cut);

/* Input arguments captured at entry (strings, the start of buffers,
 * timeouts): for display, divergence checks and the injector's filters.
 * Data lives in a caller-owned byte buffer; off/len index into it. */
struct sc_input {
	uint8_t arg;
	uint8_t cut;		/* more bytes than were captured */
	uint32_t off, len;
};

/* Whether a futex op's fourth argument is a timeout pointer. */
int sc_futex_has_timeout(uint64_t op);

struct sbuf;
/* Capture the inputs of a call; buffers are cut at maxbuf bytes.
 * Returns how many inputs were stored in in[6]. */
int sc_capture_inputs(long nr, const uint64_t args[6], sc_read_fn rd,
		      void *ctx, size_t maxbuf, struct sc_input in[6],
		      struct sbuf *data);

/* The kernel's own codes above the errnos (include/linux/errno.h): a
 * call interrupted by a signal returns a restart code at its exit stop,
 * which the program never sees (arch/x86/kernel/signal.c). */
enum {
	SC_ERESTARTSYS = 512,
	SC_ERESTARTNOINTR = 513,
	SC_ERESTARTNOHAND = 514,
	SC_ENOIOCTLCMD = 515,
	SC_ERESTART_RESTARTBLOCK = 516,
};

/* Whether a call's result is a restart code. */
static inline int sc_is_restart(int64_t ret)
{
	return ret == -SC_ERESTARTSYS || ret == -SC_ERESTARTNOINTR ||
	       ret == -SC_ERESTARTNOHAND || ret == -SC_ERESTART_RESTARTBLOCK;
}

/* Errno name ("ENOENT") for a positive errno, or NULL. Covers the kernel's
 * restart codes (ERESTARTSYS...) too. */
const char *sc_errno_name(int err);
/* The errno number for a name such as "ENOENT", or -1. */
int sc_errno_number(const char *name);

/* What a clock read (SF_CLOCKREAD) writes at its output argument for the
 * time sec, nsec, by that argument's kind: struct timespec (A_TS_OUT),
 * struct timeval (A_TV_OUT) or time_t (A_TIME_OUT).  Its length; 0 when
 * the call has no such argument. */
size_t sc_clock_out(const struct sc_desc *d, int64_t sec, int64_t nsec, unsigned char buf[16]);

#endif
