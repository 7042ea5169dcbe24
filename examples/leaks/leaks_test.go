package leaks

import (
	"context"
	"os"
	"testing"
	"time"
)

// LEAKS_FIXED=1 runs the corrected code.
var fixed = os.Getenv("LEAKS_FIXED") == "1"

// settle gives the goroutines a test started time to get where they
// stay (as the rest of a real test suite would).
func settle() { time.Sleep(10 * time.Millisecond) }

func TestFirstAnswerTimesOut(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller already gave up
	if _, err := FirstAnswer(ctx, func() string { return "late" }, fixed); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	settle()
}

func TestDoubleAllCountsErrors(t *testing.T) {
	sum, errs := DoubleAll([]int{1, 2, -3, 4}, fixed)
	if sum != 14 || errs != 1 {
		t.Fatalf("sum %d errs %d, want 14 and 1", sum, errs)
	}
	settle()
}

func TestCacheMissThenRefresh(t *testing.T) {
	c := &Cache{m: map[string]int{"a": 1}}
	if _, err := c.Get("b", fixed); err != ErrMissing {
		t.Fatalf("err = %v, want ErrMissing", err)
	}
	c.Refresh("b", 2)
	settle()
}

// No settle here: the test returns while the worker still works (a
// leak only gorr's --leaks-settle sees: the other goroutines run until
// they block before the leak check).
func TestNotifyLaterReturnsAtOnce(t *testing.T) {
	NotifyLater(func() int { time.Sleep(5 * time.Millisecond); return 1 }, fixed)
}
