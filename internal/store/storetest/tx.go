package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// testFailingWrite: when fn fails, Write returns fn's error as is and
// keeps nothing fn did: no insert, update or delete, no lazy value, no
// counter draw.
func testFailingWrite(t *testing.T, e *env) {
	kept := e.fullPkg(t, "PS100001")
	e.insert(t, kept.Clone(), e.newPkg("PS100002", "doomed?"))

	err := e.s.Write(t.Context(), func(tx store.Tx) error {
		ctx := t.Context()
		if err := tx.Insert(ctx, &store.Record{Instance: e.fullPkg(t, "PS100003")}); err != nil {
			return err
		}
		upd := e.newPkg("PS100001", "changed")
		upd.Set("Sequence", nil)
		upd.Set("Icon", []byte{1})
		if err := tx.Update(ctx, &store.Record{Instance: upd}); err != nil {
			return err
		}
		if err := tx.Delete(ctx, e.pkg, "PS100002"); err != nil {
			return err
		}
		if _, err := tx.NextSequence(ctx, "ids"); err != nil {
			return err
		}
		return errSentinel
	})
	if err != errSentinel {
		t.Fatalf("Write: error %v, want fn's error as is", err)
	}
	_, err = e.tryGet(t, "PS100003", true)
	wantKind(t, "Get of the insert of a failed Write", err, errs.NotFound, "")
	rec := e.get(t, "PS100001", true)
	checkProps(t, "instance updated by a failed Write", rec.Instance, kept, e.pkg.Properties)
	if rec.Version != 1 {
		t.Errorf("instance updated by a failed Write: version %d, want 1", rec.Version)
	}
	e.get(t, "PS100002", false)
	if n := e.count(t); n != 2 {
		t.Errorf("Count after a failed Write: %d, want 2", n)
	}
	e.write(t, func(tx store.Tx) error {
		n, err := tx.NextSequence(t.Context(), "ids")
		if err == nil && n != 1 {
			t.Errorf("NextSequence after a failed Write drew 1: %d, want 1 again", n)
		}
		return err
	})
}

// testCanceledWrite: a Write whose context has ended fails and keeps
// nothing.
func testCanceledWrite(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := e.s.Write(ctx, func(tx store.Tx) error {
		return tx.Insert(ctx, &store.Record{Instance: e.newPkg("PS100001", "never")})
	})
	if err == nil {
		t.Fatal("Write with a canceled context: no error")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a canceled context: %v, want it to wrap context.Canceled", err)
	}
	if n := e.count(t); n != 0 {
		t.Errorf("Count after a canceled Write: %d, want 0", n)
	}
}

// testReadError: Read returns fn's error as is.
func testReadError(t *testing.T, e *env) {
	err := e.s.Read(t.Context(), func(store.ReadTx) error { return errSentinel })
	if err != errSentinel {
		t.Errorf("Read: error %v, want fn's error as is", err)
	}
}

// testReadSnapshot: a Read sees one snapshot: a Write that commits while
// the Read is open does not show in it, and does not wait for it.
func testReadSnapshot(t *testing.T, e *env) {
	e.insert(t, e.newPkg("PS100001", "a"))
	err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		before, err := tx.Count(t.Context(), e.pkg, nil)
		if err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() {
			done <- e.s.Write(t.Context(), func(tx store.Tx) error {
				if err := tx.Insert(t.Context(), &store.Record{Instance: e.newPkg("PS100002", "b")}); err != nil {
					return err
				}
				return tx.Delete(t.Context(), e.pkg, "PS100001")
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("concurrent Write: %w", err)
			}
		case <-time.After(20 * time.Second):
			return errors.New("a Write waited for an open Read")
		}
		after, err := tx.Count(t.Context(), e.pkg, nil)
		if err != nil {
			return err
		}
		if after != before {
			t.Errorf("Count in one Read: %d then %d", before, after)
		}
		if _, err := tx.Get(t.Context(), e.pkg, "PS100001", true); err != nil {
			t.Errorf("Get in the Read of an instance deleted since it began: %v", err)
		}
		recs, err := tx.List(t.Context(), e.pkg, store.ListOptions{})
		if err != nil {
			return err
		}
		if got := ids(recs); !slices.Equal(got, []string{"PS100001"}) {
			t.Errorf("List in the Read: %v, want [PS100001]", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(e.list(t, store.ListOptions{})); !slices.Equal(got, []string{"PS100002"}) {
		t.Errorf("List after the Read: %v, want [PS100002]", got)
	}
}

// draw takes n values of counter name, one Write each.
func (e *env) draw(t *testing.T, name string, n int) []int64 {
	t.Helper()
	var got []int64
	for range n {
		e.write(t, func(tx store.Tx) error {
			v, err := tx.NextSequence(t.Context(), name)
			got = append(got, v)
			return err
		})
	}
	return got
}

// testSequences: a counter gives 1, 2, 3 …, across Writes and within one;
// counters are independent; a counter goes on where it was after the store
// is closed and opened again.
func testSequences(t *testing.T, e *env) {
	if got := e.draw(t, "PackageID", 3); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("PackageID: %v, want [1 2 3]", got)
	}
	if got := e.draw(t, "other", 1); !slices.Equal(got, []int64{1}) {
		t.Errorf("other: %v, want [1]", got)
	}
	var inOne []int64
	e.write(t, func(tx store.Tx) error {
		for range 3 {
			v, err := tx.NextSequence(t.Context(), "batch")
			if err != nil {
				return err
			}
			inOne = append(inOne, v)
		}
		return nil
	})
	if !slices.Equal(inOne, []int64{1, 2, 3}) {
		t.Errorf("three draws in one Write: %v, want [1 2 3]", inOne)
	}
	e.reopen(t)
	if got := e.draw(t, "PackageID", 2); !slices.Equal(got, []int64{4, 5}) {
		t.Errorf("PackageID after reopening: %v, want [4 5]", got)
	}
	if got := e.draw(t, "other", 1); !slices.Equal(got, []int64{2}) {
		t.Errorf("other after reopening: %v, want [2]", got)
	}
}

// testReopen: what a Write committed is there after the store is closed
// and opened again, lazy values, versions and all.
func testReopen(t *testing.T, e *env) {
	want := e.fullPkg(t, "PS100001")
	e.insert(t, want.Clone())
	e.update(t, want.Clone())
	e.reopen(t)
	rec := e.get(t, "PS100001", true)
	checkProps(t, "Get after reopening", rec.Instance, want, e.pkg.Properties)
	if rec.Version != 2 {
		t.Errorf("version after reopening: %d, want 2", rec.Version)
	}
	e.update(t, want.Clone())
	if v := e.get(t, "PS100001", false).Version; v != 3 {
		t.Errorf("version after reopening and updating: %d, want 3", v)
	}
}

// testConcurrentWrites: Writes from several goroutines, each drawing a
// counter value and inserting under it, lose nothing and never draw the
// same value twice.
func testConcurrentWrites(t *testing.T, e *env) {
	const workers, each = 8, 50
	var mu sync.Mutex
	var drawn []int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var n int64
				err := e.s.Write(t.Context(), func(tx store.Tx) error {
					var err error
					if n, err = tx.NextSequence(t.Context(), "PackageID"); err != nil {
						return err
					}
					in := e.newPkg(fmt.Sprintf("PS%06d", n), fmt.Sprintf("worker %d item %d", w, i))
					in.Set("Sequence", fmt.Sprintf("<sequence n=%q/>", fmt.Sprint(n)))
					return tx.Insert(t.Context(), &store.Record{Instance: in})
				})
				if err != nil {
					errc <- fmt.Errorf("worker %d item %d: %w", w, i, err)
					return
				}
				mu.Lock()
				drawn = append(drawn, n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	slices.Sort(drawn)
	want := make([]int64, workers*each)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(drawn, want) {
		t.Errorf("drawn values: %d values, duplicates or gaps (first %v)", len(drawn), drawn[:min(len(drawn), 10)])
	}
	if n := e.count(t); n != workers*each {
		t.Errorf("Count %d, want %d", n, workers*each)
	}
	rec := e.get(t, fmt.Sprintf("PS%06d", workers*each), true)
	if v, _ := rec.Instance.Get("Sequence"); v != fmt.Sprintf("<sequence n=%q/>", fmt.Sprint(workers*each)) {
		t.Errorf("last instance: Sequence %s", show(v))
	}
}
