package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationFiles holds the goose migrations of the fixed tables.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// lockWaitSeconds bounds how long Open waits for another server that is
// migrating the same schema (goose polls its advisory lock every second).
const lockWaitSeconds = 300

// migrate applies the pending migrations of the fixed tables in schema,
// each in its own transaction, through a goose provider of its own (no
// goose global state), holding goose's PostgreSQL session advisory lock
// (one lock a schema) so that servers starting at once on one database
// migrate it once. Outcomes: nil when the schema is at the newest version;
// an error naming the migration that failed.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockID("migrate", schema)),
		lock.WithLockTimeout(1, lockWaitSeconds),
	)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close() // returns its connections to the pool, which stays open
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true),
		goose.WithTableName("tsprov_goose_version"),
		goose.WithSessionLocker(locker),
	)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// lockID is the advisory lock id of one job (migrate, layout) on one
// schema: servers on different schemas of one database never wait for
// each other.
func lockID(job, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tsprov\x00" + job + "\x00" + schema))
	return int64(h.Sum64())
}
