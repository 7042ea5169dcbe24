// affinity: the CPU count sched_getaffinity reports for pid 0 and for the
// thread's own id (under gorr run, a virtual id).
package main

import (
	"fmt"
	"math/bits"
	"runtime"
	"syscall"
	"unsafe"
)

func count(pid int) int {
	var mask [128]uint64
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(pid),
		unsafe.Sizeof(mask), uintptr(unsafe.Pointer(&mask[0])))
	if e != 0 {
		return -1
	}
	n := 0
	for _, w := range mask {
		n += bits.OnesCount64(w)
	}
	return n
}

func main() {
	runtime.LockOSThread()
	fmt.Println("self", count(0), "by id", count(syscall.Gettid()))
}
