package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/secrets"
)

// Rekey rotates the key that seals task sequence secrets and reseals every
// stored secret with it, with the servers stopped. With the key file in
// the data folder: a new key is put first in the file (the old ones kept,
// so that a crash at any point leaves every value openable), every value
// is resealed in one transaction, then the old keys are dropped. With
// TSPROV_SECRET_KEY: the operator has put the new key first in it (NEW,OLD
// on every server); Rekey reseals, after which OLD can be removed.
// It returns how many values were resealed.
func Rekey(ctx context.Context, cfg Config) (int, error) {
	cfg.applyDefaults()
	reg, err := cfg.registry()
	if err != nil {
		return 0, err
	}
	fromEnv := strings.TrimSpace(os.Getenv(secrets.EnvKey)) != ""
	var box *secrets.Box
	if fromEnv {
		if box, _, err = secrets.Load(cfg.DataDir); err != nil {
			return 0, err
		}
	} else if box, err = secrets.Rotate(cfg.DataDir); err != nil {
		return 0, err
	}
	st, _, err := openStore(ctx, cfg, reg)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	prov, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: cfg.SiteCode, ServerName: cfg.ServerName, Logger: cfg.Logger, Secrets: box})
	if err != nil {
		return 0, err
	}
	n, err := prov.Reseal(ctx)
	if err != nil {
		return 0, err
	}
	if !fromEnv {
		if err := box.Forget(cfg.DataDir); err != nil {
			return n, err
		}
	}
	return n, nil
}

// ResetToken gives an administrative user a new API token by working on
// the store directly, with no server and no credentials: the way back in
// for someone who holds the data folder (or the database URL) and has lost
// every token. user is a LogonName or AdminID (empty: the first Full
// Administrator); operator is recorded in the audit trail. The SQLite
// store must exist: a folder without one is refused, never created.
func ResetToken(ctx context.Context, cfg Config, user, operator string) (provider.ResetResult, error) {
	cfg.applyDefaults()
	reg, err := cfg.registry()
	if err != nil {
		return provider.ResetResult{}, err
	}
	if cfg.Database == "" {
		path := filepath.Join(cfg.DataDir, databaseFile)
		if _, err := os.Stat(path); err != nil {
			return provider.ResetResult{}, errs.E(errs.NotFound, "no store in %s (%s is missing): give the server's data folder with --data", cfg.DataDir, databaseFile)
		}
	}
	st, _, err := openStore(ctx, cfg, reg)
	if err != nil {
		return provider.ResetResult{}, err
	}
	defer st.Close()
	prov, err := provider.New(provider.Config{Registry: reg, Store: st, SiteCode: cfg.SiteCode, ServerName: cfg.ServerName, Logger: cfg.Logger})
	if err != nil {
		return provider.ResetResult{}, err
	}
	return prov.ResetToken(ctx, user, operator)
}
