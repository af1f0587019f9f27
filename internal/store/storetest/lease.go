package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/tsprov/tsprov/internal/store"
)

// testLeaseClaims: a read of an instance and an update of it in one Write
// (how a server claims a distribution job's lease, TSP_DistributionJob)
// never lose an update, however many writers run at once: each of the
// claims below sees the attempts the others committed, so every attempt
// is taken exactly once. The job's NAL path key keeps its backslashes and
// quotes.
func testLeaseClaims(t *testing.T, e *env) {
	const workers, attempts = 6, 60
	c, _ := e.reg.Class("TSP_DistributionJob")
	nalPath := `["Display=\\DP1.CONTOSO.COM\"]MSWNET:["SMS_SITE=PS1"]\\DP1.CONTOSO.COM\`
	job := e.object(t, "TSP_DistributionJob", map[string]any{"PackageID": "PS100001", "NALPath": nalPath, "Attempt": int64(0), "State": int64(0)})
	e.insert(t, job)
	key := job.Key()

	var mu sync.Mutex
	taken := map[int64]string{}
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := fmt.Sprintf("server-%d", w)
			for {
				var got int64
				err := e.s.Write(t.Context(), func(tx store.Tx) error {
					got = 0
					rec, err := tx.Get(t.Context(), c, key, false)
					if err != nil {
						return err
					}
					n := rec.Instance.Int("Attempt")
					if n >= attempts {
						return nil
					}
					rec.Instance.Set("Attempt", n+1)
					rec.Instance.Set("Driver", me)
					got = n + 1
					return tx.Update(t.Context(), rec)
				})
				if err != nil {
					errc <- err
					return
				}
				if got == 0 {
					return
				}
				mu.Lock()
				if prev, dup := taken[got]; dup {
					mu.Unlock()
					errc <- fmt.Errorf("attempt %d taken by %s and %s", got, prev, me)
					return
				}
				taken[got] = me
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	var ns []int64
	for n := range taken {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	if len(ns) != attempts || ns[0] != 1 || ns[len(ns)-1] != attempts {
		t.Fatalf("attempts taken: %d (want 1…%d once each)", len(ns), attempts)
	}
	rec := e.get2(t, c.Name, key)
	if rec.Instance.Int("Attempt") != attempts || rec.Instance.String("Driver") != taken[attempts] {
		t.Fatalf("stored job: attempt %d driver %q, want %d by %s", rec.Instance.Int("Attempt"), rec.Instance.String("Driver"), attempts, taken[attempts])
	}
}

// get2 reads an instance of any class.
func (e *env) get2(t *testing.T, class, key string) *store.Record {
	t.Helper()
	c, _ := e.reg.Class(class)
	var rec *store.Record
	err := e.s.Read(t.Context(), func(tx store.ReadTx) error {
		var err error
		rec, err = tx.Get(t.Context(), c, key, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
