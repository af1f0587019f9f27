package postgres

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// TestEventsAcrossServers: two stores on one database stand for two
// servers. Each hears, through LISTEN/NOTIFY, the positions of the
// other's commits; both read one feed that holds every change of both
// exactly once, numbered in commit order; and a store on another schema
// hears nothing of them.
func TestEventsAcrossServers(t *testing.T) {
	reg := registry(t)
	c := pkgClass(t, reg)
	url := pgtest.URL(t, t.Name())
	a, b := open(t, url, reg), open(t, url, reg)
	other := open(t, pgtest.URL(t, t.Name()+"/other"), reg)
	hearB, hearOther := b.Subscribe(t.Context()), other.Subscribe(t.Context())

	insert := func(s *Store, id string) {
		t.Helper()
		if err := s.Write(t.Context(), func(tx store.Tx) error {
			return tx.Insert(t.Context(), &store.Record{Instance: newPkg(c, id)})
		}); err != nil {
			t.Fatalf("insert %s: %v", id, err)
		}
	}
	insert(a, "PS100001")
	select {
	case pos := <-hearB:
		if pos != 1 {
			t.Errorf("b heard position %d of a's first insert, want 1", pos)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b did not hear a's commit")
	}

	const each = 100
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() {
			for j := range each {
				insert(s, fmt.Sprintf("PS1%d%04X", i+1, j))
			}
		})
	}
	wg.Wait()
	for name, s := range map[string]*Store{"a": a, "b": b} {
		var evs []store.Event
		if err := s.Read(t.Context(), func(tx store.ReadTx) error {
			for after := int64(0); ; {
				page, err := tx.Events(t.Context(), after, 0)
				if err != nil || len(page) == 0 {
					return err
				}
				evs = append(evs, page...)
				after = page[len(page)-1].Seq
			}
		}); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i, ev := range evs {
			if ev.Seq != int64(i+1) || seen[ev.Key] {
				t.Fatalf("%s: event %d is %+v (position out of order or key seen before)", name, i+1, ev)
			}
			seen[ev.Key] = true
		}
		if len(evs) != 1+2*each {
			t.Errorf("%s reads %d events, want %d", name, len(evs), 1+2*each)
		}
	}
	select {
	case pos := <-hearOther:
		t.Errorf("a store on another schema heard position %d", pos)
	case <-time.After(200 * time.Millisecond):
	}
}
