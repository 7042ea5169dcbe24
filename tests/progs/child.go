// child: starts another program and prints what it said.
package main

import (
	"fmt"
	"os"
	"os/exec"
)

func main() {
	out, err := exec.Command("echo", "child says hi").Output()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Print("parent got: ", string(out))
}
