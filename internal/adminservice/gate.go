package adminservice

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
)

// DefaultMethodWait is how long a method call waits for a free slot before
// it is answered 503.
const DefaultMethodWait = 10 * time.Second

// methodRetryAfter is the Retry-After (seconds) of a call refused for want
// of a slot.
const methodRetryAfter = 2

// DefaultMethodCalls is the number of method calls that run at once by
// default: one per CPU the Go runtime uses, and at least two. The methods
// turn whole task sequences (up to 2 MB of XML) into objects and back, so
// they are CPU-bound: more at once would not finish sooner, only hold more
// memory.
func DefaultMethodCalls() int { return max(2, runtime.GOMAXPROCS(0)) }

// gate bounds the method calls that run at once. A call waits, before its
// body is read, for a free slot up to wait; then it is refused.
type gate struct {
	slots chan struct{}
	wait  time.Duration
}

func newGate(n int, wait time.Duration) *gate {
	return &gate{slots: make(chan struct{}, n), wait: wait}
}

// enter takes a slot, waiting for one up to g.wait (or until ctx ends). The
// caller must call the release function it returns. The error is
// errs.Unavailable.
func (g *gate) enter(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.leave, nil
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.leave, nil
	case <-t.C:
		return nil, errs.E(errs.Unavailable, "the server is busy: %d method calls are running and this one waited %s for a turn; try again in %d s", cap(g.slots), g.wait, methodRetryAfter)
	case <-ctx.Done():
		return nil, errs.E(errs.Unavailable, "the request ended while it waited for a turn: %w", ctx.Err())
	}
}

func (g *gate) leave() { <-g.slots }

// refuseBusy answers a call the gate refused: 503 with Retry-After.
func (h *Handler) refuseBusy(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", strconv.Itoa(methodRetryAfter))
	h.writeError(w, r, err)
}
