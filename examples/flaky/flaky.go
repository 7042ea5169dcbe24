// Package flaky holds five concurrency bugs of the kinds Go bug studies
// find most often (Tu et al., ASPLOS 2019; Yuan et al., GoBench, CGO
// 2021), each behind a test that passes almost always: the window in
// which each bug shows is a log write that natively takes microseconds.
// Under `gorr hunt` a seed that makes that write slow (chaos latency)
// makes the test fail, every time with that seed.
package flaky

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

var devnull, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0)

// logf stands for the logging real code does in these windows.
func logf(msg string) { devnull.WriteString(msg + "\n") }

// Notifier: a lost wake-up. Wait checks the flag without the lock, logs,
// then waits: a Signal between the check and the Wait is lost, and the
// waiter sleeps forever.
type Notifier struct {
	mu    sync.Mutex
	cond  *sync.Cond
	ready int32
}

func NewNotifier() *Notifier {
	n := &Notifier{}
	n.cond = sync.NewCond(&n.mu)
	return n
}

func (n *Notifier) Wait() {
	if atomic.LoadInt32(&n.ready) == 0 { // the bug: checked outside the lock
		logf("waiting for the notifier")
		n.mu.Lock()
		n.cond.Wait()
		n.mu.Unlock()
	}
}

func (n *Notifier) Notify() {
	n.mu.Lock()
	atomic.StoreInt32(&n.ready, 1)
	n.cond.Signal()
	n.mu.Unlock()
}

var ErrTimeout = errors.New("timeout")

// Compute returns work's result, or ErrTimeout after timeout. The worker
// sends on an unbuffered channel: after a timeout nobody receives, and
// it stays blocked forever (a leaked goroutine).
func Compute(work func() int, timeout time.Duration) (int, error) {
	ch := make(chan int) // the bug: make(chan int, 1) lets the send finish
	go func() { ch <- work() }()
	select {
	case r := <-ch:
		return r, nil
	case <-time.After(timeout):
		return 0, ErrTimeout
	}
}

// StartAll runs n tasks and waits for them, but each task calls wg.Add
// itself, after it logs that it starts: a Wait that comes first returns
// at once, before any task ran.
func StartAll(n int, task func()) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		go func() {
			logf("task starting")
			wg.Add(1) // the bug: Add belongs before the go statement
			defer wg.Done()
			task()
		}()
	}
	time.Sleep(time.Millisecond) // "give them time to start"
	wg.Wait()
}

// Account transfers lock the source then the destination: two transfers
// in opposite directions lock in opposite orders (lock order inversion).
type Account struct {
	mu      sync.Mutex
	balance int
}

func Transfer(from, to *Account, amount int) {
	from.mu.Lock()
	defer from.mu.Unlock()
	logf("transfer: debited")
	to.mu.Lock() // the bug: no global lock order
	defer to.mu.Unlock()
	from.balance -= amount
	to.balance += amount
}

// Fetch runs a request with a heartbeat goroutine on a ticker; on an
// error it returns without stopping the heartbeat: the goroutine and its
// ticker leak.
func Fetch(request func() error) error {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	if err := request(); err != nil {
		return err // the bug: close(done) is skipped
	}
	close(done)
	return nil
}
