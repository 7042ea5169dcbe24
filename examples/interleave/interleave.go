// Package interleave holds concurrency bugs whose window has no syscall
// in it: only computation and Go's own synchronization (sync.Mutex,
// sync.RWMutex, go statements).  A tool that switches threads only at
// syscalls never opens these windows; natively they open when two
// goroutines happen to run their few instructions at the same moment on
// two CPUs, which is rare (see README.md).
package interleave

import (
	"errors"
	"sync"
)

// checksum stands for the computation real code does between two
// synchronization operations: a few hundred nanoseconds, no syscall.
func checksum(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}

var payload = make([]byte, 256)

// Ledger moves amounts between accounts; each account has a lock, and a
// move locks the source, computes the record's checksum, then locks the
// destination: two moves in opposite directions lock in opposite orders.
type Account struct {
	mu      sync.Mutex
	balance int
	sum     uint32
}

func Move(from, to *Account, amount int) {
	from.mu.Lock()
	defer from.mu.Unlock()
	sum := checksum(payload[:4])
	to.mu.Lock() // the bug: no global lock order
	defer to.mu.Unlock()
	from.balance -= amount
	to.balance += amount
	from.sum, to.sum = sum, sum
}

// Cache is read under a read lock; Len takes the read lock again from
// inside Get (a recursive read lock).  sync.RWMutex forbids it: a writer
// that arrives between the two RLocks blocks new readers, including the
// nested one, and waits for the first: a deadlock.
type Cache struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func NewCache() *Cache { return &Cache{m: map[string][]byte{}} }

func (c *Cache) Len() int {
	c.mu.RLock() // the bug: Get holds the read lock already
	defer c.mu.RUnlock()
	return len(c.m)
}

func (c *Cache) Get(k string) ([]byte, int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v := c.m[k]
	checksum(v)
	return v, c.Len()
}

func (c *Cache) Put(k string, v []byte) {
	c.mu.Lock()
	c.m[k] = v
	c.mu.Unlock()
}

// Pool starts its worker and then marks itself open; the worker begins
// by checking that the pool is open.  Natively the goroutine that a go
// statement makes starts a few microseconds later, after the creator has
// taken the lock; when it starts first, Begin finds the pool closed.
type Pool struct {
	mu     sync.Mutex
	open   bool
	result chan error
}

var ErrClosed = errors.New("worker began before the pool was open")

func (p *Pool) begin() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.open {
		return ErrClosed
	}
	return nil
}

func (p *Pool) worker() {
	if err := p.begin(); err != nil {
		p.result <- err
		return
	}
	checksum(payload)
	p.result <- nil
}

func Start() *Pool {
	p := &Pool{result: make(chan error, 1)}
	go p.worker() // the bug: the pool is marked open after the worker starts
	p.mu.Lock()
	p.open = true
	p.mu.Unlock()
	return p
}
