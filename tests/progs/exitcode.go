// exitcode: exits with the status given as its argument, or kills itself
// with the signal named by "sig:N".
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	arg := "0"
	if len(os.Args) > 1 {
		arg = os.Args[1]
	}
	if strings.HasPrefix(arg, "sig:") {
		n, _ := strconv.Atoi(arg[4:])
		fmt.Println("killing myself with signal", n)
		syscall.Kill(os.Getpid(), syscall.Signal(n))
		select {}
	}
	n, _ := strconv.Atoi(arg)
	fmt.Println("exiting with", n)
	os.Exit(n)
}
