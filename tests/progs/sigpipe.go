// sigpipe: a child killed by a signal while its parent goes on.  The
// parent runs itself as a child whose stdout is a pipe, reads one line
// and closes its end; the child writes on, gets EPIPE on its stdout, and
// the Go runtime kills it with SIGPIPE (runtime/signal_unix.go sigpipe,
// dieFromSignal): the kernel kills every thread of the child at once,
// and their exits reach the tracer in an order of the kernel's while the
// parent's threads could run.  The parent counts to N between its own
// clock reads meanwhile, then reports how the child ended.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() { // threads of its own, busy when the kill comes
				defer wg.Done()
				for i := 0; i < 1000; i++ {
					time.Sleep(time.Microsecond)
				}
			}()
		}
		for i := 0; ; i++ {
			fmt.Println("line", i)
		}
	}
	n := 3
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	for k := 0; k < n; k++ {
		cmd := exec.Command(os.Args[0], "child")
		out, err := cmd.StdoutPipe()
		if err != nil {
			panic(err)
		}
		if err := cmd.Start(); err != nil {
			panic(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		out.Close()
		ticks := 0
		done := make(chan error)
		go func() { done <- cmd.Wait() }()
	wait:
		for {
			select {
			case err = <-done:
				break wait
			default:
				ticks++
				time.Sleep(time.Microsecond)
			}
		}
		fmt.Printf("child %d said %q, ended: %v\n", k, line, err)
	}
}
