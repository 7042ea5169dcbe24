// ports: N listeners on port 0 one after the other, each with a
// connection to it, closed before the next.  The kernel chooses every
// port and gives freed ones again; under gorr run the program sees
// virtual ones (61000, 61001...), the same on every run of a seed, and
// both ends of a connection agree on each.  Prints a digest of the ports
// seen and whether the two views agreed every time.
package main

import (
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"strconv"
)

func main() {
	n := 150
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	h := sha256.New()
	agree := true
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			panic(err)
		}
		s, err := ln.Accept()
		if err != nil {
			panic(err)
		}
		agree = agree && c.LocalAddr().String() == s.RemoteAddr().String() &&
			c.RemoteAddr().String() == ln.Addr().String()
		fmt.Fprintln(h, ln.Addr(), c.LocalAddr(), s.RemoteAddr())
		s.Close()
		c.Close()
		ln.Close()
	}
	fmt.Printf("%d listeners, ends agree: %v, ports %x\n", n, agree, h.Sum(nil)[:8])
}
