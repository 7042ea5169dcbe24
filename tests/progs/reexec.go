// reexec: execs itself from a goroutine locked to a new OS thread, so the
// exec happens on a thread that is not the thread group leader (the kernel
// then gives it the leader's tid: fs/exec.c de_thread).
package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		fmt.Println("child running as pid", os.Getpid())
		return
	}
	fmt.Println("parent pid", os.Getpid())
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		done <- syscall.Exec(self, []string{"reexec", "child"}, os.Environ())
	}()
	fmt.Println("exec failed:", <-done)
	os.Exit(1)
}
