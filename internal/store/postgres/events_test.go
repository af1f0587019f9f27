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

// TestSubscribeWhileClosing: Subscribe and Close at once are safe (run
// with -race: Close read the listener's state that the first Subscribe
// sets, unsynchronised), and a Subscribe after Close gets a closed
// channel.
func TestSubscribeWhileClosing(t *testing.T) {
	reg := registry(t)
	url := pgtest.URL(t, t.Name())
	for range 5 {
		s := open(t, url, reg)
		var wg sync.WaitGroup
		wg.Go(func() { s.Subscribe(t.Context()) })
		wg.Go(func() { s.Close() })
		wg.Wait()
		select {
		case _, ok := <-s.Subscribe(t.Context()):
			if ok {
				t.Fatal("a Subscribe after Close heard a position")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a Subscribe after Close got an open channel")
		}
	}
}

// TestListenReconnects: when the listening connection is lost, the store
// connects again and its subscribers hear the commits of other servers,
// also those made while it was not listening.
func TestListenReconnects(t *testing.T) {
	reg := registry(t)
	c := pkgClass(t, reg)
	url := pgtest.URL(t, t.Name())
	// a's connections carry a name of their own, so that only its
	// listening connection is ended (other tests run alongside)
	a, b := open(t, url+"&application_name=tsprov_listen_reconnects", reg), open(t, url, reg)
	hear := a.Subscribe(t.Context())
	insert := func(id string) {
		t.Helper()
		if err := b.Write(t.Context(), func(tx store.Tx) error {
			return tx.Insert(t.Context(), &store.Record{Instance: newPkg(c, id)})
		}); err != nil {
			t.Fatalf("insert %s: %v", id, err)
		}
	}
	wait := func(want int64) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case pos := <-hear:
				if pos == want {
					return
				}
			case <-deadline:
				t.Fatalf("a did not hear position %d", want)
			}
		}
	}
	insert("PS100001")
	wait(1)
	// end a's listening connection from the server side
	var n int
	err := b.pool.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'tsprov_listen_reconnects' AND query LIKE 'SELECT last FROM tsprov_event_position%'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("found no listening connection to end")
	}
	insert("PS100002") // likely while a is not listening
	wait(2)
	insert("PS100003")
	wait(3)
}
