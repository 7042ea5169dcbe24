package kernels

// Kernels in the shape of the bug studies' (GoBench's goker): the test
// starts goroutines and returns, and the leak check in TestMain (which
// retries, as goleak does) is what fails.  Written for the chaos tuning
// of 2026-12-02 (docs/chaos.md), after the patterns of real bugs (a
// balancer that sends with its lock held while the watcher's handler
// takes that lock, a stream that sends before it notices a stop, a
// condition variable signalled before its wait, lock order, a cancelled
// context against an unbuffered result, a recursive read lock with a
// writer between, a stop that only a started loop acknowledges).

import (
	"context"
	"sync"
	"testing"
)

// balancer: updates sent with the lock held; the watcher's handler takes the lock
type balancer struct {
	mu sync.Mutex
	ch chan int
}

func (b *balancer) push(v int) { b.mu.Lock(); defer b.mu.Unlock(); b.ch <- v }
func (b *balancer) remove()    { b.mu.Lock(); defer b.mu.Unlock() }

func TestBalancer(t *testing.T) {
	b := &balancer{ch: make(chan int)}
	go func() {
		for i := 0; i < 3; i++ {
			b.push(i)
		}
		close(b.ch)
	}()
	go func() {
		for v := range b.ch {
			if v > 0 {
				b.remove()
			}
		}
	}()
}

// watch stream: the sender picks the send before it notices the stop
type stream struct {
	out  chan int
	stop chan struct{}
}

func (s *stream) run() {
	for i := 0; ; i++ {
		select {
		case <-s.stop:
			return
		default:
		}
		s.out <- i
	}
}

func TestStream(t *testing.T) {
	s := &stream{out: make(chan int), stop: make(chan struct{})}
	go s.run()
	<-s.out
	<-s.out
	close(s.stop)
}

// a cond signalled before anyone waits
type gate struct {
	mu   sync.Mutex
	cond *sync.Cond
	open bool
}

func TestGate(t *testing.T) {
	g := &gate{}
	g.cond = sync.NewCond(&g.mu)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		g.mu.Lock()
		g.open = true
		g.mu.Unlock()
		g.cond.Signal()
	}()
	go func() {
		g.mu.Lock()
		if !g.open {
			g.mu.Unlock() // checks, then waits without the lock held across
			g.mu.Lock()
			g.cond.Wait()
		}
		g.mu.Unlock()
	}()
	wg.Wait()
}

// two stores locked in opposite order by a sync and a gc goroutine
type store struct{ mu sync.Mutex; n int }

func TestSyncGC(t *testing.T) {
	a, b := &store{}, &store{}
	go func() {
		a.mu.Lock()
		a.n++
		b.mu.Lock()
		b.n++
		b.mu.Unlock()
		a.mu.Unlock()
	}()
	go func() {
		b.mu.Lock()
		b.n--
		a.mu.Lock()
		a.n--
		a.mu.Unlock()
		b.mu.Unlock()
	}()
}

// context cancelled; the worker's result send is unbuffered
func TestCancelResult(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan int)
	go func() {
		v := 0
		for i := 0; i < 3; i++ {
			v += i
		}
		res <- v
	}()
	go cancel()
	select {
	case <-res:
	case <-ctx.Done():
	}
}

// recursive read lock with a writer arriving between
type table struct{ mu sync.RWMutex; m map[int]int }

func (t *table) get(k int) int { t.mu.RLock(); defer t.mu.RUnlock(); return t.m[k] }
func (t *table) sum() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.get(1) + t.get(2)
}

func TestTable(t *testing.T) {
	tb := &table{m: map[int]int{1: 1, 2: 2}}
	go func() { tb.mu.Lock(); tb.m[3] = 3; tb.mu.Unlock() }()
	go func() { _ = tb.sum() }()
}

// the stopper: Stop waits for an ack that only a running loop gives
type loop struct {
	mu      sync.Mutex
	running bool
	stopc   chan chan struct{}
}

func (l *loop) start() {
	go func() {
		l.mu.Lock()
		l.running = true
		l.mu.Unlock()
		ack := <-l.stopc
		close(ack)
	}()
}

func (l *loop) stop() {
	l.mu.Lock()
	r := l.running
	l.mu.Unlock()
	if r {
		ack := make(chan struct{})
		l.stopc <- ack
		<-ack
	}
}

func TestLoopStop(t *testing.T) {
	l := &loop{stopc: make(chan chan struct{})}
	l.start()
	l.stop()
}

// a slot pool whose "error" path keeps its slot when the last worker
// started is the first to register: natively the last goroutine a go
// statement makes runs first about half the time (it sits in its P's
// runnext), under gorr only if its creator runs through the whole loop
// without a switch (docs/chaos.md, "Long-slice runs")
func TestSlotFirst(t *testing.T) {
	slot := make(chan struct{}, 1)
	var mu sync.Mutex
	seen := 0
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			slot <- struct{}{}
			mu.Lock()
			seen++
			first := seen == 1
			mu.Unlock()
			if first && i == 3 {
				return // keeps the slot
			}
			<-slot
		}(i)
	}
	wg.Wait()
}

// a poller whose halt returns at once when the loop has not marked itself
// running yet; the loop then starts and spins (select with default, a
// Lock) for ever, through the whole leak check's retries: a run in which
// it leaks passes its decision points hundreds of thousands of times,
// each a stop (docs/chaos.md, "Long-slice runs": 37-55 s per such run)
type poller struct {
	mu      sync.Mutex
	running bool
	stop    chan struct{}
}

func (p *poller) start() {
	go func() {
		p.mu.Lock()
		p.running = true
		p.mu.Unlock()
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			p.mu.Lock()
			r := p.running
			p.mu.Unlock()
			if !r {
				return
			}
		}
	}()
}

func (p *poller) halt() {
	p.mu.Lock()
	was := p.running
	p.running = false
	p.mu.Unlock()
	if was {
		p.stop <- struct{}{}
	}
}

func TestPollerHalt(t *testing.T) {
	p := &poller{stop: make(chan struct{})}
	p.start()
	p.halt()
}
