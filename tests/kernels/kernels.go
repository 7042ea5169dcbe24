// Package kernels holds small blocking bugs in the style of the Go bug
// studies' kernels (timeouts racing with results, lock order, a mutex
// held across a channel send, lost condition-variable wakeups, error
// paths that keep a lock or a semaphore, stop signals that nobody
// receives).  They are gorr's own proxy for the held-out bug set that
// issue 11 measures: tests/bench/kernels_bench.py compares how often
// plain reruns and `gorr hunt` show each one.  Standard library only.
package kernels

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// work stands for the computation real code does between two
// synchronization operations: about n * 2 ns, no syscall.
func work(n int) uint32 {
	h := uint32(2166136261)
	for i := 0; i < n; i++ {
		h = (h ^ uint32(i)) * 16777619
	}
	return h
}

// FetchWithTimeout runs op in a goroutine and waits for its result or
// the timeout.  Bug (a common one in etcd and gRPC): the result channel
// is unbuffered, so when the timeout wins the goroutine blocks on its
// send for ever.
func FetchWithTimeout(op func() uint32, d time.Duration) (uint32, error) {
	ch := make(chan uint32)
	go func() { ch <- op() }()
	select {
	case v := <-ch:
		return v, nil
	case <-time.After(d):
		return 0, errors.New("timeout")
	}
}

// Account transfers lock the source, then the destination: two transfers
// in opposite directions lock in opposite orders.
type Account struct {
	mu  sync.Mutex
	bal int
}

func Transfer(from, to *Account, n int) {
	from.mu.Lock()
	defer from.mu.Unlock()
	work(50)
	to.mu.Lock()
	defer to.mu.Unlock()
	from.bal -= n
	to.bal += n
}

// Broker publishes under its lock; the consumer leaves when quit is
// closed.  Bug (moby style): Publish holds mu while it blocks on the
// send, and Close needs mu.
type Broker struct {
	mu     sync.Mutex
	events chan int
	quit   chan struct{}
	closed bool
}

func NewBroker() *Broker {
	return &Broker{events: make(chan int), quit: make(chan struct{})}
}

func (b *Broker) Consume() {
	for {
		select {
		case <-b.events:
		case <-b.quit:
			return
		}
	}
}

func (b *Broker) Publish(v int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.events <- v
}

func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
}

// Latch waits for a flag set by another goroutine.  Bug (cockroach
// style): Wait checks the flag before it takes the lock, so a Broadcast
// between the check and cond.Wait is lost.
type Latch struct {
	mu   sync.Mutex
	cond *sync.Cond
	set  atomic.Bool
}

func NewLatch() *Latch {
	l := &Latch{}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *Latch) Set() {
	l.set.Store(true)
	l.mu.Lock()
	l.cond.Broadcast()
	l.mu.Unlock()
}

func (l *Latch) Wait() {
	if l.set.Load() {
		return
	}
	work(20)
	l.mu.Lock()
	l.cond.Wait()
	l.mu.Unlock()
}

// Watcher forwards source events to its subscriber until stopped.  Bug
// (grpc style): when stop and an event are both ready, select may take
// the event and forward it to a subscriber that no longer reads.
type Watcher struct {
	src, out chan int
	stop     chan struct{}
}

func (w *Watcher) Run() {
	for {
		select {
		case <-w.stop:
			return
		case e := <-w.src:
			work(30)
			w.out <- e
		}
	}
}

// Store returns early on its closed path without unlocking.  Bug
// (kubernetes style): the path is taken only when Close runs first.
type Store struct {
	mu     sync.Mutex
	closed atomic.Bool
	m      map[string]int
}

var ErrClosed = errors.New("closed")

func (s *Store) Put(k string, v int) error {
	s.mu.Lock()
	if s.closed.Load() {
		return ErrClosed // the bug: mu stays locked
	}
	s.m[k] = v
	s.mu.Unlock()
	return nil
}

func (s *Store) Close() { s.closed.Store(true) }

// Poller ticks until it has seen enough ticks or is stopped; Stop sends
// on an unbuffered channel.  Bug (hugo/syncthing style): when the loop
// already returned on its own, Stop blocks for ever.
type Poller struct{ stop chan struct{} }

func (p *Poller) Run(every time.Duration, max int) {
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-t.C:
			if n >= max {
				return
			}
		case <-p.stop:
			return
		}
	}
}

func (p *Poller) Stop() { p.stop <- struct{}{} }

// Lookup runs the query in a goroutine and gives up when ctx is done.
// Bug (knative/kubernetes style): the result channel is unbuffered.
func Lookup(ctx context.Context, q func() int) (int, error) {
	res := make(chan int)
	go func() { res <- q() }()
	select {
	case v := <-res:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Service closes done on Stop only when it saw Serve start.  Bug
// (syncthing style): a Stop before Serve marks itself running leaves
// Serve waiting for ever.
type Service struct {
	mu      sync.Mutex
	running bool
	done    chan struct{}
}

func (s *Service) Serve() {
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	<-s.done
}

func (s *Service) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		close(s.done)
	}
}

// Limiter hands out slots from a buffered channel.  Bug (etcd style):
// Do returns on the canceled path without giving its slot back.
type Limiter struct {
	slots    chan struct{}
	canceled atomic.Bool
}

func (l *Limiter) Do(f func()) error {
	l.slots <- struct{}{}
	if l.canceled.Load() {
		return context.Canceled // the bug: the slot is kept
	}
	f()
	<-l.slots
	return nil
}

// Claim hands out one token through a channel of one slot to the first
// caller.  Bug (a check-then-act on plain memory, as in lazily started
// workers and "first one wins" flags): claimed is tested and then set
// without a lock, with computation between, so two callers can both
// see it unset; the second blocks for ever on the full slot.  The window
// holds no atomic, no channel operation and no call of sync's: only a
// slice end at the test itself can open it under gorr (DP_CHECK).
type Claim struct {
	claimed bool
	slot    chan int
}

func NewClaim() *Claim { return &Claim{slot: make(chan int, 1)} }

func (c *Claim) Take(id int) {
	if !c.claimed {
		work(30)
		c.claimed = true
		c.slot <- id
	}
}
