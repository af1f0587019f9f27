package sqlite

import (
	"testing"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
)

// TestRestoreFailureKeepsVersion: a Restore that fails after the row is
// inserted (here when its lazy value is written) leaves the record's
// version as given, so that a Write that runs its function again restores
// the version the source holds.
func TestRestoreFailureKeepsVersion(t *testing.T) {
	reg := registry(t, mofV1)
	c := class(t, reg, "T_Thing")
	s := open(t, t.TempDir(), reg)
	if _, err := s.writer.ExecContext(t.Context(),
		`CREATE TRIGGER refuse_apart BEFORE INSERT ON tsprov_apart_values BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	in := cim.NewInstance(c)
	in.Set("Id", "a")
	in.Set("Note", "lazy")
	rec := &store.Record{Instance: in, Version: 7}
	err := s.Write(t.Context(), func(tx store.Tx) error { return tx.Restore(t.Context(), rec) })
	if err == nil {
		t.Fatal("Restore succeeded despite the trigger")
	}
	if rec.Version != 7 {
		t.Errorf("after a failed Restore the record's version is %d, want 7", rec.Version)
	}
}
