// finalizer: a type wraps a raw file descriptor and closes it in a
// finalizer. ReadAll passes the descriptor to a helper and never touches
// the wrapper again, so from that call on the wrapper is garbage: a GC
// while the helper reads runs the finalizer, which closes the descriptor
// under the reader ("bad file descriptor"). The fix is one line,
// runtime.KeepAlive(f) after the read. Natively this program allocates
// too little for a GC to come at that moment, so the bug hides.
package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

type rawFile struct {
	fd   int
	name string // (a pointer: an object without any would come from the
	// tiny allocator, whose finalizers may never run)
}

// openFeed returns the read end of a pipe that a goroutine writes a few
// lines into, slowly.
func openFeed(lines int) (*rawFile, error) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return nil, err
	}
	go func() {
		for i := 1; i <= lines; i++ {
			syscall.Write(p[1], []byte(fmt.Sprintf("line %d\n", i)))
			time.Sleep(time.Millisecond)
		}
		syscall.Close(p[1])
	}()
	f := &rawFile{fd: p[0], name: "feed"}
	runtime.SetFinalizer(f, func(f *rawFile) { syscall.Close(f.fd) })
	return f, nil
}

// ReadAll reads until EOF.
func (f *rawFile) ReadAll() ([]byte, error) {
	return readFd(f.fd) // BUG: f is garbage from here on
}

// ReadAllFixed is ReadAll with the bug fixed.
func (f *rawFile) ReadAllFixed() ([]byte, error) {
	data, err := readFd(f.fd)
	runtime.KeepAlive(f) // f stays reachable until the read is over
	return data, err
}

func readFd(fd int) ([]byte, error) {
	var out []byte
	buf := make([]byte, 64)
	for {
		n, err := syscall.Read(fd, buf)
		if err != nil {
			return out, err
		}
		if n == 0 {
			return out, nil
		}
		out = appendChunk(out, buf[:n])
	}
}

//go:noinline
func appendChunk(out, chunk []byte) []byte {
	return append(out, chunk...)
}

func main() {
	f, err := openFeed(3)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("reading %s\n", f.name)
	var data []byte
	if len(os.Args) > 1 && os.Args[1] == "-fixed" {
		data, err = f.ReadAllFixed()
	} else {
		data, err = f.ReadAll()
	}
	if err != nil {
		fmt.Printf("read failed after %d bytes: %v\n", len(data), err)
		os.Exit(1)
	}
	fmt.Printf("read %d bytes\n", len(data))
}
