// inodes: create files in a fresh temporary folder, list it, and print
// each file's inode number as the directory listing (getdents64) and
// stat give it, and whether they agree.  Natively the numbers change
// from run to run; under gorr run they are virtual, the same for a seed.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

func unsafePointer(p *byte) unsafe.Pointer { return unsafe.Pointer(p) }

func main() {
	dir, err := os.MkdirTemp("", "gorr-inodes-")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	for _, n := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
	}
	f, err := os.Open(dir)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	buf := make([]byte, 4096)
	n, err := syscall.Getdents(int(f.Fd()), buf)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	dents := map[string]uint64{}
	for off := 0; off+19 <= n; {
		ino := *(*uint64)(unsafePointer(&buf[off]))
		reclen := int(buf[off+16]) | int(buf[off+17])<<8
		name := buf[off+19 : off+reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		dents[string(name)] = ino
		off += reclen
	}
	for _, name := range []string{"a", "b", "c"} {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, name), &st); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println(name, dents[name], st.Ino, dents[name] == st.Ino)
	}
}
