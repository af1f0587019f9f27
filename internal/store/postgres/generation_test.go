package postgres

import (
	"testing"

	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// TestGeneration: every commit, of this store or of another store on the
// same schema (another server), moves the mark past every mark before it.
// (The mark is the cluster's snapshot, so other work on the database
// server may move it too: the test asserts only that commits do.)
func TestGeneration(t *testing.T) {
	reg := registry(t)
	c := pkgClass(t, reg)
	url := pgtest.URL(t, t.Name())
	s, other := open(t, url, reg), open(t, url, reg)
	seen := map[string]string{}
	moved := func(what string) {
		t.Helper()
		m, err := s.Generation(t.Context())
		if err != nil {
			t.Fatalf("Generation: %v", err)
		}
		if before, ok := seen[m]; ok {
			t.Errorf("after %s the mark is %s, as it was %s", what, m, before)
		}
		seen[m] = what
	}
	moved("opening")
	for i, w := range []*Store{s, other, other, s} {
		id := []string{"PS100001", "PS100002", "PS100003", "PS100004"}[i]
		if err := w.Write(t.Context(), func(tx store.Tx) error {
			return tx.Insert(t.Context(), &store.Record{Instance: newPkg(c, id)})
		}); err != nil {
			t.Fatal(err)
		}
		moved("the write of " + id)
	}
}
