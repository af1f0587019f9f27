package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query/querytest"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
	"github.com/tsprov/tsprov/internal/store/storetest"
	"github.com/tsprov/tsprov/schema"
)

func registry(t *testing.T) *cim.Registry {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// open opens a store at url; the test closes it at its end.
func open(t *testing.T, url string, reg *cim.Registry) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, reg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the store conformance suite, each subtest in a schema
// of its own (the suite's directory names it).
func TestContract(t *testing.T) {
	reg := registry(t)
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		s, err := Open(t.Context(), pgtest.URL(t, dir), reg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// TestQuerySuite runs the WQL and OData query conformance suite on a
// fresh schema.
func TestQuerySuite(t *testing.T) {
	reg := registry(t)
	querytest.Run(t, func(t *testing.T) store.Store {
		return open(t, pgtest.URL(t, t.Name()), reg)
	})
}

// TestOpenUnreachable: a database that cannot be reached is an error from
// Open that does not show the password.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, "postgres://tsprov:s3cret-pw@127.0.0.1:1/tsprov?connect_timeout=5&sslmode=disable", registry(t))
	if err == nil {
		s.Close()
		t.Fatal("Open of 127.0.0.1:1 succeeded")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("the error shows the password: %v", err)
	}
	if _, err := Open(ctx, "postgres://a b:%zz@/", registry(t)); errs.KindOf(err) != errs.Invalid {
		t.Errorf("Open of a malformed URL: %v (%v), want an Invalid error", err, errs.KindOf(err))
	}
}

// TestOpenConcurrently: servers that start at once on a new schema all
// open it (migrations and class tables made once, under advisory locks).
func TestOpenConcurrently(t *testing.T) {
	reg := registry(t)
	url := pgtest.URL(t, t.Name())
	const servers = 4
	var wg sync.WaitGroup
	stores := make([]*Store, servers)
	errc := make(chan error, servers)
	for i := range servers {
		wg.Go(func() {
			s, err := Open(t.Context(), url, reg)
			if err != nil {
				errc <- fmt.Errorf("server %d: %w", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	for _, s := range stores {
		if s != nil {
			s.Close()
		}
	}
}

// pkgClass returns SMS_TaskSequencePackage.
func pkgClass(t *testing.T, reg *cim.Registry) *cim.Class {
	t.Helper()
	c, ok := reg.Class("SMS_TaskSequencePackage")
	if !ok {
		t.Fatal("no class SMS_TaskSequencePackage")
	}
	return c
}

// newPkg is a package instance with the given key.
func newPkg(c *cim.Class, id string) *cim.Instance {
	in := cim.NewInstance(c)
	in.Set("PackageID", id)
	in.Set("Name", "package "+id)
	in.Set("Duration", int64(0))
	in.Set("Sequence", "0")
	return in
}

// TestReadCheckUpdateAcrossServers: two stores on one schema (two
// servers) each read an instance in a Write, count on from what they read
// and write it back, many times at once. A Get in a Write locks the row,
// so no increment is lost, neither of the row column (Duration) nor of the
// large value stored apart (Sequence).
func TestReadCheckUpdateAcrossServers(t *testing.T) {
	reg := registry(t)
	c := pkgClass(t, reg)
	url := pgtest.URL(t, t.Name())
	servers := []*Store{open(t, url, reg), open(t, url, reg)}
	if err := servers[0].Write(t.Context(), func(tx store.Tx) error {
		return tx.Insert(t.Context(), &store.Record{Instance: newPkg(c, "PS100001")})
	}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		s := servers[w%len(servers)]
		wg.Go(func() {
			for range each {
				err := s.Write(t.Context(), func(tx store.Tx) error {
					rec, err := tx.Get(t.Context(), c, "ps100001", true)
					if err != nil {
						return err
					}
					in := rec.Instance
					n := in.Values["Duration"].(int64)
					if seq := in.Values["Sequence"]; seq != fmt.Sprint(n) {
						return fmt.Errorf("read Duration %d with Sequence %v", n, seq)
					}
					in.Set("Duration", n+1)
					in.Set("Sequence", fmt.Sprint(n+1))
					return tx.Update(t.Context(), rec)
				})
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	err := servers[1].Read(t.Context(), func(tx store.ReadTx) error {
		rec, err := tx.Get(t.Context(), c, "PS100001", true)
		if err != nil {
			return err
		}
		if d, seq := rec.Instance.Values["Duration"], rec.Instance.Values["Sequence"]; d != int64(workers*each) || seq != fmt.Sprint(workers*each) {
			t.Errorf("after %d increments: Duration %v, Sequence %v", workers*each, d, seq)
		}
		if rec.Version != workers*each+1 {
			t.Errorf("Version %d, want %d", rec.Version, workers*each+1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriteRetriesDeadlock: two Writes that lock two instances in
// opposite orders deadlock; PostgreSQL aborts one, and Write runs its fn
// again, so both succeed.
func TestWriteRetriesDeadlock(t *testing.T) {
	reg := registry(t)
	c := pkgClass(t, reg)
	s := open(t, pgtest.URL(t, t.Name()), reg)
	if err := s.Write(t.Context(), func(tx store.Tx) error {
		for _, id := range []string{"PS100001", "PS100002"} {
			if err := tx.Insert(t.Context(), &store.Record{Instance: newPkg(c, id)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	var locked sync.WaitGroup // both have locked their first instance
	locked.Add(2)
	transfer := func(first, second string) error {
		var once sync.Once
		return s.Write(t.Context(), func(tx store.Tx) error {
			runs.Add(1)
			if _, err := tx.Get(t.Context(), c, first, false); err != nil {
				return err
			}
			once.Do(func() { locked.Done(); locked.Wait() })
			rec, err := tx.Get(t.Context(), c, second, false)
			if err != nil {
				return err
			}
			rec.Instance.Set("Duration", rec.Instance.Values["Duration"].(int64)+1)
			return tx.Update(t.Context(), rec)
		})
	}
	errc := make(chan error, 2)
	go func() { errc <- transfer("PS100001", "PS100002") }()
	go func() { errc <- transfer("PS100002", "PS100001") }()
	for range 2 {
		if err := <-errc; err != nil {
			t.Errorf("Write: %v", err)
		}
	}
	if n := runs.Load(); n < 3 {
		t.Errorf("fn ran %d times; a deadlock makes one Write run it again", n)
	}
	err := s.Read(t.Context(), func(tx store.ReadTx) error {
		for _, id := range []string{"PS100001", "PS100002"} {
			rec, err := tx.Get(t.Context(), c, id, false)
			if err != nil {
				return err
			}
			if d := rec.Instance.Values["Duration"]; d != int64(1) {
				t.Errorf("%s: Duration %v, want 1", id, d)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriteKeepsNonRetryableErrors: an error of fn that is not a deadlock
// is returned as is, after one run.
func TestWriteKeepsNonRetryableErrors(t *testing.T) {
	s := open(t, pgtest.URL(t, t.Name()), registry(t))
	boom := errors.New("boom")
	runs := 0
	err := s.Write(t.Context(), func(tx store.Tx) error { runs++; return boom })
	if err != boom || runs != 1 {
		t.Errorf("Write: %v after %d runs, want boom after 1", err, runs)
	}
}
