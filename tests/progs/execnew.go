// execnew: writes a program during the run (a copy of itself, as a test
// that builds a program would) and runs it, then removes it.  Replay makes
// execs for real, but the file was written by calls it emulates: the
// trace carries the file (the exec event's image).
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		fmt.Println("the new program ran")
		return
	}
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "execnew")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	in, err := os.Open(self)
	if err != nil {
		panic(err)
	}
	path := filepath.Join(dir, "made")
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		panic(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		panic(err)
	}
	in.Close()
	out.Close()
	b, err := exec.Command(path, "child").Output()
	fmt.Printf("parent got: %s", b)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}
