// child: starts another program N times (default 1) and prints what it
// said.  Each start is a vfork with every signal blocked around it
// (syscall/exec_unix.go forkExec), after which the child's SIGCHLD and
// a preemption SIGURG can both be pending.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

func main() {
	n := 1
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	for i := 0; i < n; i++ {
		out, err := exec.Command("echo", "child says hi").Output()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Print("parent got: ", string(out))
	}
}
