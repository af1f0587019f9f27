package store_test

import (
	"context"
	"testing"

	"github.com/tsprov/tsprov/internal/store"
)

// TestFanout: a subscriber gets the newest position when it lags, never a
// position as old as one it could have had, nothing after it cancels, and
// a closed channel once the Fanout closes.
func TestFanout(t *testing.T) {
	var f store.Fanout
	ctx, cancel := context.WithCancel(t.Context())
	a, b := f.Subscribe(t.Context()), f.Subscribe(ctx)
	f.Publish(1)
	if got := <-a; got != 1 {
		t.Errorf("a got %d, want 1", got)
	}
	f.Publish(2)
	f.Publish(3)
	f.Publish(3) // heard twice (own commit, then NOTIFY)
	f.Publish(2) // out of order
	if got := <-a; got != 3 {
		t.Errorf("a lagging got %d, want 3", got)
	}
	select {
	case got := <-a:
		t.Errorf("a got %d again", got)
	default:
	}
	if got := <-b; got != 3 {
		t.Errorf("b got %d, want 3", got)
	}
	cancel()
	if _, ok := <-b; ok {
		t.Error("b delivered after its context ended")
	}
	f.Close()
	if _, ok := <-a; ok {
		t.Error("a open after Close")
	}
	if _, ok := <-f.Subscribe(t.Context()); ok {
		t.Error("a subscription after Close is open")
	}
}
