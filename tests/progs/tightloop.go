// tightloop MODE: with GOMAXPROCS=1, a goroutine works in a loop until a
// flag that only a later goroutine sets; main can go on only once the
// runtime preempts the worker (sysmon's SIGURG), so the worker's
// timeslice ends inside its loop, lap after lap of it.
//
//	count   for flag == 0 { n++ }: n in a register, no store, no call
//	store   the same with n a global: a store every lap
//	nested  an inner loop of 1000 laps inside the outer one
//	sha256  crypto/sha256 of 4 KB, lap after lap
//	json    encoding/json Marshal and Unmarshal, lap after lap
package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

var flag int32
var global uint64

type rec struct {
	Name  string
	Vals  []int
	Inner map[string]float64
}

func work(mode string) uint64 {
	var n uint64
	switch mode {
	case "count":
		for atomic.LoadInt32(&flag) == 0 {
			n++
		}
	case "store":
		for atomic.LoadInt32(&flag) == 0 {
			global++
		}
		n = global
	case "nested":
		for atomic.LoadInt32(&flag) == 0 {
			for i := 0; i < 1000; i++ {
				n += uint64(i) ^ n>>3
			}
		}
	case "sha256":
		buf := make([]byte, 4096)
		for atomic.LoadInt32(&flag) == 0 {
			s := sha256.Sum256(buf)
			buf[n%4096] = s[0]
			n++
		}
		n = uint64(buf[0]) | uint64(buf[1])<<8
	case "json":
		r := rec{Name: "x", Vals: []int{1, 2, 3}, Inner: map[string]float64{"a": 1.5}}
		for atomic.LoadInt32(&flag) == 0 {
			b, _ := json.Marshal(&r)
			var q rec
			json.Unmarshal(b, &q)
			r.Vals = append(r.Vals[:3], len(b))
			n++
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: tightloop count|store|nested|sha256|json")
		os.Exit(2)
	}
	return n
}

func main() {
	runtime.GOMAXPROCS(1)
	mode := "count"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	done := make(chan uint64)
	go func() { done <- work(mode) }()
	time.Sleep(time.Millisecond) // the worker takes the only P
	go func() { atomic.StoreInt32(&flag, 1) }()
	fmt.Println(mode, "finished", <-done)
}
