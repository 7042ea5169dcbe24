// waitnull: starts /bin/true and waits for it with waitid and no
// siginfo, as Go 1.23-1.25's os/exec pidfd probe does
// (syscall/exec_linux.go os_checkClonePidfd): the call returns 0 whether
// it reaped the child or, with WNOHANG, found nothing.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{})
	if err != nil {
		fmt.Println("fork:", err)
		os.Exit(1)
	}
	const pPID = 1
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), 0, syscall.WEXITED, 0, 0)
		if errno != syscall.EINTR {
			fmt.Println("waitid:", errno == 0)
			break
		}
	}
	// Reaped: nothing is left to wait for.
	_, err = syscall.Wait4(pid, nil, syscall.WNOHANG, nil)
	fmt.Println("then wait4:", err)
}
