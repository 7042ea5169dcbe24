// manyg: N goroutines (default 300) blocked in six different ways, then
// the runtime's own list of all goroutines (runtime.Stack with all set:
// the traceback code the SIGQUIT dump runs) on stdout, then a clean exit.
// gorr --leaks must find the same blocked goroutines.
// With -wait, it prints "ready" and blocks forever instead (benchmarks);
// with -quit it sends itself SIGQUIT, and the runtime prints every
// goroutine on stderr as it dies.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 300, "goroutines")
	wait := flag.Bool("wait", false, "print ready and block")
	quit := flag.Bool("quit", false, "end with SIGQUIT's goroutine dump")
	flag.Parse()

	var mu sync.Mutex
	mu.Lock()
	var rw sync.RWMutex
	rw.Lock()
	var wg sync.WaitGroup
	wg.Add(1)
	recv, send, sel := make(chan int), make(chan int), make(chan int)
	cond := sync.NewCond(&sync.Mutex{})
	for i := 0; i < *n; i++ {
		switch i % 6 {
		case 0:
			go func() { <-recv }()
		case 1:
			go func() { send <- 1 }()
		case 2:
			go func() { mu.Lock() }()
		case 3:
			go func() { wg.Wait() }()
		case 4:
			go func() {
				select {
				case <-sel:
				case <-recv:
				}
			}()
		case 5:
			go func() {
				cond.L.Lock()
				cond.Wait()
			}()
		}
	}
	time.Sleep(100 * time.Millisecond) // every one of them blocks
	if *wait {
		fmt.Println("ready")
		time.Sleep(time.Hour) // (a timer: not a deadlock)
	}
	if *quit {
		syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		time.Sleep(time.Hour)
	}
	buf := make([]byte, 16<<20)
	os.Stdout.Write(buf[:runtime.Stack(buf, true)])
}
