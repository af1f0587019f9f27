package sqlstore

import (
	"sync"

	"github.com/tsprov/tsprov/internal/errs"
)

// Gate counts the Reads and Writes of a store in flight and closes the
// store to new ones. The zero Gate is open.
type Gate struct {
	mu     sync.Mutex
	closed bool
	active sync.WaitGroup
}

// Enter registers a Read or Write in flight; the caller calls Done when it
// ends. Outcomes: nil; an error of kind errs.Unavailable, prefixed with
// backend, once Close has begun.
func (g *Gate) Enter(backend string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return errs.E(errs.Unavailable, "%s: store is closed", backend)
	}
	g.active.Add(1)
	return nil
}

// Done ends what Enter registered.
func (g *Gate) Done() { g.active.Done() }

// Close refuses new Reads and Writes and waits for those in flight.
// Outcomes: true; false, at once, when Close was called before.
func (g *Gate) Close() bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.closed = true
	g.mu.Unlock()
	g.active.Wait()
	return true
}
