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
//	array   tally[i&3] += i: a store to an address that changes every lap
//	crc     hash/crc32 (assembly: SSE or AVX-512 with PCLMULQDQ) of 2 KB
//	sort    sort.Ints of 300 pseudo-random ints, round after round
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"runtime"
	"sort"
	"sync/atomic"
	"time"
)

var flag int32
var global uint64
var tally [4]uint32

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
	case "array":
		i := 0
		for atomic.LoadInt32(&flag) == 0 {
			tally[i&3] += uint32(i)
			i++
		}
		n = uint64(tally[0]) + uint64(tally[1]) + uint64(tally[2]) + uint64(tally[3])
	case "crc":
		data := bytes.Repeat([]byte("gorr"), 512)
		var c uint32
		for atomic.LoadInt32(&flag) == 0 {
			c = crc32.Update(c, crc32.IEEETable, data)
			data[c%uint32(len(data))]++
		}
		n = uint64(c)
	case "sort":
		v := make([]int, 300)
		seed := 7
		for atomic.LoadInt32(&flag) == 0 {
			for i := range v {
				seed = seed*1103515245 + 12345
				v[i] = seed % 1000
			}
			sort.Ints(v)
			n++
		}
		n = n<<20 | uint64(v[0])<<10 | uint64(v[299])
	default:
		fmt.Fprintln(os.Stderr, "usage: tightloop count|store|nested|sha256|json|array|crc|sort")
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
