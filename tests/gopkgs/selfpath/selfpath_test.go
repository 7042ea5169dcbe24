// Package selfpath: a test whose output is what the program reads of its
// own path (os.Args[0], /proc/self/exe, the lines of /proc/self/maps that
// name it) and which always fails, so that gorr hunt saves a reproducer
// (tests/e2e/test_hunt.py: the reproducer of the saved copy, run after
// the original is gone, must print the same).
package selfpath

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestSelfPath(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(maps), "\n") {
		if strings.HasSuffix(l, " "+exe) {
			n++
		}
	}
	fmt.Printf("args0 %s\nexe %s\nmaps: %d lines name it\n", os.Args[0], exe, n)
	t.Fatal("fails on purpose")
}
