// churn MODE: GOMAXPROCS 1; a worker churns until a later goroutine closes
// a channel it polls with select-default.  Written as a program unlike
// tightloop.go to check the conditional breakpoints on unseen shapes;
// on Go 1.26 about 1 replay of matrix in 3 ended in --stuck-after until
// slices moved on to where a window fits (docs/ARCHITECTURE.md,
// "Timeslices in tight loops").
package main

import (
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"strings"
	"unicode"
)

var quit = make(chan struct{})

func stopped() bool {
	select {
	case <-quit:
		return true
	default:
		return false
	}
}

func churn(kind string) string {
	switch kind {
	case "matrix":
		var m [8][8]float64
		k := 0
		for !stopped() {
			for r := 0; r < 8; r++ {
				for c := 0; c < 8; c++ {
					m[r][c] = m[(r+1)&7][c]*0.5 + float64(k&15)
				}
			}
			k++
		}
		return fmt.Sprintf("%.3f %d", m[3][4], k)
	case "fnv":
		h := fnv.New64a()
		word := []byte("gorr-replays-this")
		n := 0
		for !stopped() {
			h.Write(word)
			word[n%len(word)] ^= byte(h.Sum64())
			n++
		}
		return fmt.Sprint(h.Sum64(), n)
	case "upper":
		s := strings.Repeat("mixed Case text ", 40)
		n := 0
		for !stopped() {
			u := strings.Map(unicode.ToUpper, s)
			n += strings.Count(u, "T")
		}
		return fmt.Sprint(n)
	case "linked":
		type node struct {
			v    int
			next *node
		}
		var head *node
		for i := 0; i < 64; i++ {
			head = &node{i, head}
		}
		sum := 0
		for !stopped() {
			for p := head; p != nil; p = p.next {
				sum += p.v
				p.v ^= sum & 3
			}
		}
		return fmt.Sprint(sum)
	}
	fmt.Fprintln(os.Stderr, "usage: churn matrix|fnv|upper|linked")
	os.Exit(2)
	return ""
}

func main() {
	runtime.GOMAXPROCS(1)
	out := make(chan string)
	go func() { out <- churn(os.Args[1]) }()
	runtime.Gosched()
	go close(quit)
	fmt.Println(os.Args[1], <-out)
}
