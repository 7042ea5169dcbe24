package kernels

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestMain checks for leaked goroutines after the tests, as goleak does:
// it retries for up to half a second for them to settle, then fails.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		for i := 0; i < 100 && runtime.NumGoroutine() > 1; i++ {
			time.Sleep(5 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > 1 {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Printf("leak: %d goroutines left\n%s\n", n-1, buf)
			code = 1
		}
	}
	os.Exit(code)
}

func TestFetchTimeout(t *testing.T) {
	if _, err := FetchWithTimeout(func() uint32 { return work(200) }, 200*time.Microsecond); err != nil {
		t.Log(err)
	}
}

func TestTransfer(t *testing.T) {
	a, b := &Account{bal: 10}, &Account{bal: 10}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); Transfer(a, b, 1) }()
	go func() { defer wg.Done(); work(2000); Transfer(b, a, 1) }()
	wg.Wait()
}

func TestBrokerClose(t *testing.T) {
	b := NewBroker()
	go b.Consume()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); work(500); b.Publish(1) }()
	close(b.quit)
	work(100)
	b.Close()
	wg.Wait()
}

func TestLatch(t *testing.T) {
	l := NewLatch()
	go func() { work(100); l.Set() }()
	l.Wait()
}

func TestWatcherStop(t *testing.T) {
	w := &Watcher{src: make(chan int, 1), out: make(chan int), stop: make(chan struct{})}
	go w.Run()
	w.src <- 1
	<-w.out
	close(w.stop)
	w.src <- 2 // buffered: Run may take it instead of seeing stop
}

func TestStoreClose(t *testing.T) {
	s := &Store{m: map[string]int{}}
	go s.Close()
	work(300)
	s.Put("a", 1)
	s.Put("b", 2)
}

func TestPollerStop(t *testing.T) {
	p := &Poller{stop: make(chan struct{})}
	go p.Run(100*time.Microsecond, 40)
	time.Sleep(time.Millisecond)
	p.Stop()
}

func TestLookupCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { work(1000); cancel() }()
	if _, err := Lookup(ctx, func() int { return int(work(100)) }); err != nil {
		t.Log(err)
	}
	cancel()
}

func TestServiceStop(t *testing.T) {
	s := &Service{done: make(chan struct{})}
	go s.Serve()
	time.Sleep(50 * time.Microsecond)
	s.Stop()
}

func TestLimiterCancel(t *testing.T) {
	l := &Limiter{slots: make(chan struct{}, 1)}
	go func() { work(300); l.canceled.Store(true) }()
	l.Do(func() {})
	done := make(chan struct{})
	go func() {
		l.canceled.Store(false)
		l.Do(func() {})
		close(done)
	}()
	<-done
}

func TestClaim(t *testing.T) {
	c := NewClaim()
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			work(150 * (i + 1))
			c.Take(i)
		}(i)
	}
	wg.Wait()
	<-c.slot
}
