// child: starts another program N times (default 1) and prints what it
// said.  Each start is a vfork with every signal blocked around it
// (syscall/exec_unix.go forkExec), after which the child's SIGCHLD and
// a preemption SIGURG can both be pending.  With "reldir" the program is
// named by a path relative to the command's Dir (bin/echo in /usr): the
// child chdirs before its execve (syscall/exec_linux.go), and replay must
// too.
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
		cmd := exec.Command("echo", "child says hi")
		if len(os.Args) > 2 && os.Args[2] == "reldir" {
			cmd = exec.Command("bin/echo", "child says hi")
			cmd.Dir = "/usr"
		}
		out, err := cmd.Output()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Print("parent got: ", string(out))
	}
}
