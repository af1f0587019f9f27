package provider_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

// hookStore runs beforeCommit at the end of every write transaction that
// succeeded, while it is still open.
type hookStore struct {
	store.Store
	beforeCommit func()
}

func (s *hookStore) Write(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Write(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if h := s.beforeCommit; h != nil {
			h()
		}
		return nil
	})
}

// A token revoked through this server is refused at once, even when
// another request resolved it (and cached its principal) while the
// revocation was being committed.
func TestRevokedTokenIsRefusedAtOnceDespiteAConcurrentSignIn(t *testing.T) {
	ctx := context.Background()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tsprov.db"), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hs := &hookStore{Store: st}
	prov, err := provider.New(provider.Config{Registry: reg, Store: hs, SiteCode: "PS1", ServerName: "TESTSRV",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := prov.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := prov.Bootstrap(ctx, ""); err != nil {
		t.Fatal(err)
	}
	const firstAdmin = 16777217
	token, info, err := prov.CreateToken(authtest.Context(), firstAdmin, "to revoke", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prov.AuthenticateToken(ctx, token, "127.0.0.1"); err != nil {
		t.Fatalf("the new token: %v", err)
	}

	// while the revocation is written but not committed, another request
	// signs in with the token: it reads the state before the revocation
	hs.beforeCommit = func() {
		hs.beforeCommit = nil
		done := make(chan error, 1)
		go func() {
			_, err := prov.AuthenticateToken(ctx, token, "127.0.0.1")
			done <- err
		}()
		if err := <-done; err != nil {
			t.Logf("sign-in during the revocation: %v", err)
		}
	}
	if err := prov.RevokeToken(authtest.Context(), info.TokenID); err != nil {
		t.Fatal(err)
	}
	if _, err := prov.AuthenticateToken(ctx, token, "127.0.0.1"); err == nil {
		t.Fatal("a token revoked through this server was accepted after the revocation committed")
	}
}
