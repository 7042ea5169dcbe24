package kernels

// Timing kernels: a timer, a sleep or a deadline races with computation
// or with another goroutine's start, as in the bug studies' kernels that
// use time to widen a window.  Written for the chaos tuning of
// 2026-12-02 (docs/chaos.md), not tuned to gorr: their native failure
// rates are in docs/performance.md.

import (
	"context"
	"sync"
	"testing"
	"time"
)

var sink uint32

// compute against a context deadline, unbuffered result
func TestCtxCompute(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Microsecond)
	defer cancel()
	res := make(chan uint32)
	go func() { res <- work(60000) }()
	select {
	case v := <-res:
		sink = v
	case <-ctx.Done():
	}
}

// a sleep against a slightly longer timeout
func TestSleepVsAfter(t *testing.T) {
	res := make(chan int)
	go func() { time.Sleep(100 * time.Microsecond); res <- 1 }()
	select {
	case <-res:
	case <-time.After(300 * time.Microsecond):
	}
}

// watchdog stops listening after a quiet period; kicks are unbuffered
func TestWatchdog(t *testing.T) {
	kick := make(chan struct{})
	go func() {
		for {
			select {
			case <-kick:
			case <-time.After(500 * time.Microsecond):
				return
			}
		}
	}()
	for i := 0; i < 5; i++ {
		sink += work(40000)
		kick <- struct{}{}
	}
}

// the classic timer drain: Stop false after the value was consumed
func TestTimerDrain(t *testing.T) {
	tm := time.NewTimer(200 * time.Microsecond)
	done := make(chan struct{})
	go func() { sink += work(100000); close(done) }()
	select {
	case <-done:
	case <-tm.C:
		<-done
	}
	if !tm.Stop() {
		select {
		case <-tm.C:
		case <-time.After(5 * time.Second):
			// stand-in for blocking for ever in a native run
			for {
				time.Sleep(time.Hour)
			}
		}
	}
}

// a registration that a sleep is assumed to outwait
func TestRegisterSleep(t *testing.T) {
	var mu sync.Mutex
	var regs []chan int
	stopped := false
	for i := 0; i < 3; i++ {
		go func() {
			sink += work(20000)
			c := make(chan int)
			mu.Lock()
			if stopped {
				mu.Unlock()
				c <- 1 // nobody will ever read: bug
				return
			}
			regs = append(regs, c)
			mu.Unlock()
			<-c
		}()
	}
	time.Sleep(200 * time.Microsecond)
	mu.Lock()
	stopped = true
	for _, c := range regs {
		close(c)
	}
	mu.Unlock()
}

// a batcher flushes on a timer; Close waits for a flush ack unbuffered
func TestBatchFlush(t *testing.T) {
	in := make(chan int, 16)
	ack := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		tk := time.NewTicker(100 * time.Microsecond)
		defer tk.Stop()
		n := 0
		for {
			select {
			case <-in:
				n++
			case <-tk.C:
				if n == 0 {
					return // nothing to flush: gives up early (bug)
				}
				n = 0
			case <-quit:
				ack <- struct{}{}
				return
			}
		}
	}()
	for i := 0; i < 4; i++ {
		in <- i
		sink += work(30000)
	}
	close(quit)
	<-ack
}
