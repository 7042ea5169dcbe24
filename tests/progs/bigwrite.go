// bigwrite: calls that block in the kernel until another goroutine acts,
// which gorr cannot tell from their arguments (harness/sched/sched.c
// release_blocked): a 1 MiB write into a blocking pipe (poll says
// writable, the write returns only once the reader took most of it, as
// the standard library's os tests splice into a pty), and the open of a
// FIFO, which waits for its other end's open (fs/fifo.c).
//
// With "child", it runs itself as a child process that writes 300 KB to
// its stdout, a blocking pipe, in one write while the parent reads it
// (os/exec Output), as math/big's tests run the go command: the write
// does not fit in the pipe, so under gorr run it is made in parts.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		b := make([]byte, 300<<10)
		for i := range b {
			b[i] = byte(i * 7)
		}
		n, err := syscall.Write(1, b)
		fmt.Fprintln(os.Stderr, "child wrote", n, err)
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "parent" {
		out, err := exec.Command(os.Args[0], "child").Output()
		fmt.Printf("parent read %d bytes %x %v\n", len(out), sha256.Sum256(out), err)
		return
	}
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		panic(err)
	}
	done := make(chan int)
	go func() {
		buf := make([]byte, 4096)
		total := 0
		for {
			n, err := syscall.Read(p[0], buf)
			if n <= 0 || err != nil {
				break
			}
			total += n
		}
		done <- total
	}()
	n, err := syscall.Write(p[1], make([]byte, 1<<20))
	syscall.Close(p[1])
	fmt.Println("pipe: wrote", n, err, "read", <-done)

	dir, err := os.MkdirTemp("", "bigwrite")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		panic(err)
	}
	got := make(chan string)
	go func() {
		fd, err := syscall.Open(fifo, syscall.O_RDONLY, 0)
		if err != nil {
			got <- err.Error()
			return
		}
		buf := make([]byte, 64)
		n, _ := syscall.Read(fd, buf)
		syscall.Close(fd)
		got <- string(buf[:n])
	}()
	fd, err := syscall.Open(fifo, syscall.O_WRONLY, 0)
	if err != nil {
		panic(err)
	}
	syscall.Write(fd, []byte("through the fifo"))
	syscall.Close(fd)
	fmt.Println("fifo:", <-got)
}
