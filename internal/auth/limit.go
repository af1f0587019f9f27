package auth

import (
	"sync"
	"time"
)

// Throttle slows down guessing: after Free failed sign-ins from one
// address within Window, that address is refused until Window has passed
// since its last failure. Successful sign-ins do not reset the count, so
// an attacker holding one valid credential cannot use it to keep guessing
// others.
type Throttle struct {
	Free   int
	Window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string]*failures
}

type failures struct {
	n    int
	last time.Time
}

// NewThrottle returns a throttle allowing free failures per window.
func NewThrottle(free int, window time.Duration) *Throttle {
	return &Throttle{Free: free, Window: window, now: time.Now, failures: map[string]*failures{}}
}

// Blocked reports whether addr must wait, and for how long.
func (t *Throttle) Blocked(addr string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.failures[addr]
	if f == nil {
		return false, 0
	}
	since := t.now().Sub(f.last)
	if since >= t.Window {
		delete(t.failures, addr)
		return false, 0
	}
	if f.n < t.Free {
		return false, 0
	}
	return true, t.Window - since
}

// Fail records a failed sign-in from addr.
func (t *Throttle) Fail(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.failures[addr]
	if f == nil || now.Sub(f.last) >= t.Window {
		f = &failures{}
		t.failures[addr] = f
	}
	f.n++
	f.last = now
	if len(t.failures) > 100000 { // bound memory under a spray of addresses
		for a, g := range t.failures {
			if now.Sub(g.last) >= t.Window {
				delete(t.failures, a)
			}
		}
	}
}

// RateLimiter is a token bucket per key (a credential): Rate requests per
// second on average, Burst at once.
type RateLimiter struct {
	Rate  float64
	Burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter returns a limiter of rate requests per second per key,
// with bursts up to burst.
func NewRateLimiter(rate, burst float64) *RateLimiter {
	return &RateLimiter{Rate: rate, Burst: burst, now: time.Now, buckets: map[string]*bucket{}}
}

// Allow takes one request from the bucket of key addr; when it is empty it reports
// false and how long until the next request is allowed.
func (l *RateLimiter) Allow(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[addr]
	if b == nil {
		if len(l.buckets) > 100000 {
			for a, x := range l.buckets {
				if now.Sub(x.last) > time.Duration(l.Burst/l.Rate*float64(time.Second)) {
					delete(l.buckets, a)
				}
			}
		}
		b = &bucket{tokens: l.Burst, last: now}
		l.buckets[addr] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * l.Rate
	if b.tokens > l.Burst {
		b.tokens = l.Burst
	}
	b.last = now
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / l.Rate * float64(time.Second))
		return false, wait
	}
	b.tokens--
	return true, 0
}
