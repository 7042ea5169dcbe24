// inoreuse: writes a file, stats it, removes it, writes another in the
// same folder and stats that: natively ext4 gives the second file the
// first one's inode number at once (tmpfs never does), and whether it
// does depends on what else the file system was doing.  Under gorr run
// a removed file's virtual inode number is never given again, so the
// answer is "false" on every file system and every run.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

func ino(p string) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		panic(err)
	}
	return st.Ino
}

func main() {
	dir, err := os.MkdirTemp("", "gorr-inoreuse-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	a := filepath.Join(dir, "a")
	if err := os.WriteFile(a, []byte("a"), 0o600); err != nil {
		panic(err)
	}
	ia := ino(a)
	if err := os.Remove(a); err != nil {
		panic(err)
	}
	b := filepath.Join(dir, "b")
	if err := os.WriteFile(b, []byte("b"), 0o600); err != nil {
		panic(err)
	}
	fmt.Println("same inode:", ia == ino(b))
}
