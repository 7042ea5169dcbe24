// netio: round trips of varied sizes over a loopback TCP connection (an
// echo server in the same process), for gorr's syscall buffer: Go's
// reads, writes and zero-timeout epoll waits on its non-blocking sockets
// go without stops under `gorr record` (docs/ARCHITECTURE.md, "Calls
// without stops").  SIGUSR1s sent from outside are counted: the replay
// must count the same.  Prints a digest of what came back.
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
)

func main() {
	n := 500
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var sigs int64
	c := make(chan os.Signal, 1024)
	signal.Notify(c, syscall.SIGUSR1)
	fmt.Fprintln(os.Stderr, "ready") // for signals from outside
	go func() {
		for range c {
			atomic.AddInt64(&sigs, 1)
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(conn, conn)
		conn.Close()
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	h := sha256.New()
	buf := make([]byte, 40000)
	got := make([]byte, 40000)
	for i := 0; i < n; i++ {
		size := 1 + (i*7919)%30000
		for j := 0; j < size; j++ {
			buf[j] = byte(i + j*31)
		}
		if _, err := conn.Write(buf[:size]); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		if _, err := io.ReadFull(conn, got[:size]); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		h.Write(got[:size])
	}
	conn.Close()
	fmt.Printf("%d round trips, %x, %d signals\n", n, h.Sum(nil)[:8], atomic.LoadInt64(&sigs))
}
