// sigpair: a thread that has blocked every signal finds two pending when
// it unblocks them: a SIGUSR1 it sent itself and the SIGCHLD of a child
// that exited meanwhile.  The kernel delivers the first, then the second
// after the first handler returns (Go's handlers block every signal).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"unsafe"
)

func sigprocmask(how int, set uint64) {
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, uintptr(how), uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
}

func main() {
	runtime.LockOSThread()
	c := make(chan os.Signal, 8)
	signal.Notify(c, syscall.SIGCHLD)
	for i := 0; i < 5; i++ {
		sigprocmask(0, ^uint64(0)) // SIG_BLOCK everything
		// CLONE_VFORK without CLONE_VM: a copy, and the parent waits in
		// the kernel until the child has exited (not stopped, so the
		// SIGCHLD is for this blocked thread or pending for the process).
		pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, syscall.CLONE_VFORK|uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		if errno != 0 {
			fmt.Println("fork:", errno)
			os.Exit(1)
		}
		if pid == 0 {
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
		var ws syscall.WaitStatus
		// wait4 with every signal blocked: the SIGCHLD stays pending.
		syscall.RawSyscall6(syscall.SYS_WAIT4, pid, uintptr(unsafe.Pointer(&ws)), syscall.WALL, 0, 0, 0)
		syscall.RawSyscall(syscall.SYS_TGKILL, uintptr(syscall.Getpid()), uintptr(syscall.Gettid()), uintptr(syscall.SIGURG))
		sigprocmask(1, ^uint64(0)) // SIG_UNBLOCK
		fmt.Println("round", i, (<-c).String())
	}
}
