package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/postgres"
	"github.com/tsprov/tsprov/internal/store/sqlite"
)

// openStore opens the store cfg names: the PostgreSQL database of
// cfg.Database when it is a postgres:// or postgresql:// URL, the SQLite
// file in cfg.DataDir when it is empty. It returns the store and where it
// is, for the log (never a password). Outcomes: the store; an error of
// kind errs.Invalid when cfg.Database is something else; the backend's
// error when it cannot open.
func openStore(ctx context.Context, cfg Config, reg *cim.Registry) (store.Store, string, error) {
	if cfg.Database == "" {
		path := filepath.Join(cfg.DataDir, databaseFile)
		st, err := sqlite.Open(ctx, path, reg)
		if err != nil {
			return nil, "", fmt.Errorf("open store %s: %w", path, err)
		}
		return st, path, nil
	}
	if !IsPostgresURL(cfg.Database) {
		return nil, "", errs.E(errs.Invalid, "database: want a postgres:// or postgresql:// URL, or nothing for the SQLite file in the data folder")
	}
	st, err := postgres.Open(ctx, cfg.Database, reg)
	if err != nil {
		return nil, "", fmt.Errorf("open store: %w", err)
	}
	return st, "postgresql", nil
}

// OpenStore opens the store a server would: the PostgreSQL database of
// database when it is a postgres:// URL, the SQLite file in dataDir when it
// is empty (see openStore). tsprov migrate opens its two stores with it.
func OpenStore(ctx context.Context, database, dataDir string, reg *cim.Registry) (store.Store, string, error) {
	return openStore(ctx, Config{Database: database, DataDir: dataDir}, reg)
}

// DatabaseFile is the name of the SQLite file in a data folder.
const DatabaseFile = databaseFile

// IsPostgresURL reports whether s names a PostgreSQL database: a
// postgres:// or postgresql:// URL.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
