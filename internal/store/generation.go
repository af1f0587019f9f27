package store

import (
	"context"
	"sync/atomic"
)

// GenerationShare lets the callers of a store's Generation that arrive
// together share one query of the backend. A caller may take the mark of
// a query only when that query started after the caller arrived: every
// commit acknowledged before the caller arrived is then in it, as if the
// caller had asked itself. So while one query runs, the callers arriving
// wait for it to end, and the first of them runs the next query, whose
// mark all of them take; under load one query answers many requests
// instead of each request queueing for its own.
//
// Make one with NewGenerationShare.
type GenerationShare struct {
	turn    chan struct{} // holds one token while a caller decides or queries
	started atomic.Uint64 // queries started so far
	lastRun uint64        // number of the last query that succeeded (0: none); under turn
	last    string        // its mark; under turn
}

// NewGenerationShare returns a GenerationShare with no query run yet.
func NewGenerationShare() *GenerationShare {
	return &GenerationShare{turn: make(chan struct{}, 1)}
}

// Generation returns the mark of a query (query) that started after this
// call began: its own, or that of a query another caller started after
// this call began. A caller whose ctx ends while it waits returns ctx's
// error; a failed query is not shared (each waiting caller then runs its
// own).
func (s *GenerationShare) Generation(ctx context.Context, query func(context.Context) (string, error)) (string, error) {
	arrived := s.started.Load()
	if waitHook != nil {
		waitHook()
	}
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.turn }()
	if s.lastRun > arrived {
		// started after this caller arrived (numbers only grow)
		return s.last, nil
	}
	n := s.started.Add(1)
	mark, err := query(ctx)
	if err != nil {
		s.lastRun = 0
		return "", err
	}
	s.lastRun, s.last = n, mark
	return mark, nil
}

// waitHook, when set (by tests), is called by each caller of Generation
// after it has arrived and before it waits for its turn.
var waitHook func()
