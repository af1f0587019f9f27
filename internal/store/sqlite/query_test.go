package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/tsprov/tsprov/internal/query/querytest"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/schema"
)

// TestQuerySuite runs the WQL and OData query conformance suite on a
// fresh SQLite file.
func TestQuerySuite(t *testing.T) {
	querytest.Run(t, func(t *testing.T) store.Store {
		reg, err := schema.Registry()
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), dbFile), reg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}
