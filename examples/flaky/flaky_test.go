package flaky

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestComputeTimesOutRarely(t *testing.T) {
	work := func() int {
		logf("computing")
		time.Sleep(2 * time.Millisecond)
		return 42
	}
	r, err := Compute(work, 10*time.Millisecond)
	if err == ErrTimeout {
		t.Log("timed out; retrying") // flaky backends happen
		r, err = Compute(work, 10*time.Millisecond)
	}
	if err != nil || r != 42 {
		t.Fatalf("Compute = %d, %v", r, err)
	}
}

func TestNotifier(t *testing.T) {
	n := NewNotifier()
	go func() {
		time.Sleep(time.Millisecond)
		n.Notify()
	}()
	n.Wait()
}

func TestStartAll(t *testing.T) {
	var ran int32
	StartAll(3, func() { atomic.AddInt32(&ran, 1) })
	if got := atomic.LoadInt32(&ran); got != 3 {
		t.Fatalf("%d of 3 tasks ran before StartAll returned", got)
	}
}

func TestTransfers(t *testing.T) {
	a, b := &Account{balance: 100}, &Account{balance: 100}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); Transfer(a, b, 10) }()
	go func() {
		defer wg.Done()
		time.Sleep(time.Millisecond)
		Transfer(b, a, 20)
	}()
	wg.Wait()
	if a.balance != 110 || b.balance != 90 {
		t.Fatalf("balances %d and %d", a.balance, b.balance)
	}
}

func TestFetchRetries(t *testing.T) {
	request := func() error {
		start := time.Now()
		logf("request")
		if time.Since(start) > time.Millisecond {
			return ErrTimeout
		}
		return nil
	}
	if err := Fetch(request); err != nil {
		if err = Fetch(request); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond) // the rest of the suite
}
