// killchild: starts a child that waits for ever and kills it with SIGKILL.
package main

import (
	"fmt"
	"os/exec"
)

func main() {
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		fmt.Println("start:", err)
		return
	}
	cmd.Process.Kill()
	err := cmd.Wait()
	fmt.Println("child:", err)
}
