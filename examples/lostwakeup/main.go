// lostwakeup: a client reads a reply with no deadline. If the readiness
// event that should wake it is lost (a dropped netpoll event, as with a
// flaky network stack or a bug in an event loop), the client waits
// forever: Go does not see this as a deadlock, the process just hangs.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond) // the client is already waiting
		c.Write([]byte("pong\n"))
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buf := make([]byte, 16)
	n, err := c.Read(buf) // no deadline
	fmt.Printf("got %q %v\n", buf[:n], err)
}
