package provider_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// TestTrimEventsKeepsTheRetention: TrimEvents keeps the newest
// EventRetention events; a reader behind them gets errs.Gone, one within
// them reads on; a negative retention keeps everything.
func TestTrimEventsKeepsTheRetention(t *testing.T) {
	for _, tc := range []struct {
		retention int64
		gone      bool
	}{{3, true}, {-1, false}} {
		reg, err := schema.Registry()
		if err != nil {
			t.Fatal(err)
		}
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tsprov.db"), reg)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		prov, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: "PS1", ServerName: "TESTSRV",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), EventRetention: tc.retention})
		if err != nil {
			t.Fatal(err)
		}
		if err := prov.Seed(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx := authtest.Context()
		page, err := prov.Events(ctx, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if page.Position <= 3 {
			t.Fatalf("seeding left %d events, want more than 3", page.Position)
		}
		if _, err := prov.TrimEvents(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = prov.Events(ctx, 0, 0, 0)
		if got := errs.Is(err, errs.Gone); got != tc.gone {
			t.Errorf("retention %d: Events(0) after a trim: %v, want Gone %v", tc.retention, err, tc.gone)
		}
		if kept, err := prov.Events(ctx, page.Position-3, 0, 0); err != nil || len(kept.Events) == 0 {
			t.Errorf("retention %d: Events(%d) after a trim: %v, %v; want the kept ones", tc.retention, page.Position-3, kept, err)
		}
	}
}
