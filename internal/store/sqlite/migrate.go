package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// migrationFiles holds the goose migrations of the fixed tables.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the pending migrations of the fixed tables to db, each in
// its own transaction, through a goose provider of its own (no goose global
// state). Outcomes: nil when the file is at the newest version; an error
// naming the migration that failed.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys,
		goose.WithDisableGlobalRegistry(true),
		goose.WithTableName("tsprov_goose_version"),
	)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// p.Close would close db, which the store keeps using.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
