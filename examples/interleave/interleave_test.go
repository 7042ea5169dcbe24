package interleave

import (
	"sync"
	"testing"
)

func TestMoves(t *testing.T) {
	a, b := &Account{balance: 100}, &Account{balance: 100}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); Move(a, b, 10) }()
	for i := 0; i < 2000; i++ { // preparing the second move: about half a millisecond
		checksum(payload)
	}
	go func() { defer wg.Done(); Move(b, a, 20) }()
	wg.Wait()
	if a.balance+b.balance != 200 {
		t.Fatalf("balances %d + %d", a.balance, b.balance)
	}
}

func TestCacheReadWhileWrite(t *testing.T) {
	c := NewCache()
	c.Put("k", payload)
	done := make(chan struct{})
	go func() { c.Put("j", payload); close(done) }()
	if _, n := c.Get("k"); n < 1 {
		t.Fatalf("len %d", n)
	}
	<-done
}

func TestPoolStart(t *testing.T) {
	p := Start()
	if err := <-p.result; err != nil {
		t.Fatal(err)
	}
}
