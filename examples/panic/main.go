// panic dereferences a nil pointer. The hardware fault (SIGSEGV) becomes
// a Go panic, which prints a traceback and exits with status 2.
package main

import "fmt"

type config struct {
	name string
}

func load(found bool) *config {
	if found {
		return &config{name: "prod"}
	}
	return nil
}

func main() {
	fmt.Println("loading config")
	c := load(false)
	fmt.Println("config name:", c.name)
}
