// Package postgres is the scale-out store of tsprov: one PostgreSQL
// database (driver github.com/jackc/pgx/v5, a pgxpool) that several tsprov
// servers share.
//
// Layout (store's rule, driven by the class registry), in the schema the
// connection's search_path names first (public by default): one table a
// storable class, named as the class, with _key (Instance.Key; a unique
// index on its case-folded form makes keys compare without regard to
// case), _version and one typed column a row property; lazy and large
// values in tsprov_apart_values; counters in tsprov_counters; the layout
// the class tables were made with in tsprov_class_columns. The fixed
// tables come from the goose migrations in migrations/, run under goose's
// PostgreSQL session advisory lock; the class tables are created and
// extended at Open under a transaction advisory lock (layout.go), so that
// servers may start at once on one database.
//
// Strings compare and order as on the SQLite store and in memory: by
// query.Fold, then byte by byte (tsprov_fold, fold.go).
//
// Concurrency, between the goroutines of one server and between servers,
// comes from PostgreSQL's transactions alone. Read runs at REPEATABLE READ
// READ ONLY (one snapshot). Write runs at READ COMMITTED: a Get inside a
// Write locks the instance's row (SELECT … FOR UPDATE) before it reads it,
// so a read-check-update (an etag or SedoObjectVersion check, a version
// counted up) waits for any other writer of that instance and then sees
// its committed result: no update is lost. NextSequence counts in a row
// that its upsert keeps locked until commit, so values are drawn in commit
// order. Two Writes that lock rows in opposite orders deadlock; PostgreSQL
// aborts one of them (SQLSTATE 40P01, or 40001 for a serialization
// failure), and Write then runs fn again, in a new transaction, up to
// maxAttempts times in all: fn must have no effect outside the transaction
// that a second run would repeat.
//
// What this store does as the SQLite one does (checking records and
// options, converting values, reserved names, reading rows) is in store
// and store/sqlstore; this package holds PostgreSQL's SQL, its
// placeholders, pgx, the fold function and the retry of aborted writes.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// maxAttempts bounds how many times Write runs fn when PostgreSQL aborts
// its transaction for a deadlock or a serialization failure.
const maxAttempts = 5

// Store is a store.Store kept in a PostgreSQL database.
type Store struct {
	reg    *cim.Registry
	pool   *pgxpool.Pool
	tables map[string]*table

	gate sqlstore.Gate          // Reads and Writes in flight
	gens *store.GenerationShare // Generation's queries, shared by callers arriving together

	// The change feed's fan-out (events.go).
	channel      string // the schema's NOTIFY channel
	fanout       store.Fanout
	listenOnce   sync.Once
	listenCtx    context.Context // ends at Close
	listenCancel context.CancelFunc
	listenDone   chan struct{} // closed when listen returns; nil if it never ran
}

var _ store.Store = (*Store)(nil)

// Open connects to the PostgreSQL database that url names (a postgres://
// or postgresql:// URL, or key=value settings; a search_path setting
// chooses the schema) and readies it for the storable classes of reg: it
// applies the migrations of the fixed tables, then creates the table of
// each storable class and adds a column for each property the schema
// gained since the database was last opened. Several servers may open one
// database at once. Outcomes: the store; an error of kind errs.Invalid
// when url does not parse or the database's layout contradicts reg (a
// property whose type or placement changed, a class table name that the
// store reserves; the error names class and property); another error when
// the database cannot be reached or migrated. On error nothing is left
// open. The error never shows the URL's password.
func Open(ctx context.Context, url string, reg *cim.Registry) (*Store, error) {
	if reg == nil {
		return nil, errs.E(errs.Invalid, "postgres: open: no class registry")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors leave the password out
		return nil, errs.E(errs.Invalid, "postgres: open: %w", err)
	}
	tables, err := newTables(reg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{reg: reg, pool: pool, tables: tables, gens: store.NewGenerationShare()}
	s.listenCtx, s.listenCancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := s.setUp(ctx); err != nil {
		s.listenCancel()
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where(cfg), err)
	}
	return s, nil
}

// where names the database of cfg for messages, without the password.
func where(cfg *pgxpool.Config) string {
	return fmt.Sprintf("%s@%s:%d/%s", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

// setUp migrates the fixed tables, then brings the class tables in line
// with the registry.
func (s *Store) setUp(ctx context.Context) error {
	var current *string
	if err := s.pool.QueryRow(ctx, "SELECT current_schema()").Scan(&current); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if current == nil {
		return errs.E(errs.Invalid, "no schema: the search_path names no schema that exists")
	}
	schema := *current
	s.channel = fmt.Sprintf("tsprov_events_%016x", uint64(lockID("events", schema)))
	if err := migrate(ctx, s.pool, schema); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return syncLayout(ctx, tx, schema, s.tables) })
}

// Read runs fn in a REPEATABLE READ, READ ONLY transaction: all of fn's
// reads see one snapshot. Outcomes: fn's error as is; an error of kind
// errs.Unavailable after Close; ctx's error (wrapped) when ctx ends first;
// another error when the transaction fails.
func (s *Store) Read(ctx context.Context, fn func(store.ReadTx) error) error {
	if err := s.gate.Enter(backend); err != nil {
		return err
	}
	defer s.gate.Done()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: read: %w", err)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin read: %w", err)
	}
	// A read transaction has nothing to commit, and its end changes
	// nothing anyone can see: the answer does not wait for the round trip
	// of the rollback, which returns the connection to the pool when it
	// is done (Close waits for it).
	defer func() { go tx.Rollback(context.WithoutCancel(ctx)) }()
	return fn(&txn{s: s, q: tx})
}

// Write runs fn in one READ COMMITTED transaction. When PostgreSQL aborts
// the transaction for a deadlock or a serialization failure, Write runs
// fn again in a new one (see the package doc), at most maxAttempts times.
// A Read inside fn sees the store as other transactions committed it, not
// fn's changes. Outcomes: nil, and all fn did (in its last run) is
// durable; fn's error as is, and nothing fn did is kept (also when fn
// panics: the transaction is rolled back and the panic goes on); an error
// of kind errs.Unavailable after Close; ctx's error (wrapped) when ctx
// ends first, nothing kept; another error when begin or commit fails, or
// the last attempt deadlocked, nothing kept.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.gate.Enter(backend); err != nil {
		return err
	}
	defer s.gate.Done()
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if !retryable(err) || attempt == maxAttempts {
			return err
		}
		// let the transaction that won go first
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres: write: %w", ctx.Err())
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: write: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin write: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	x := &txn{s: s, q: tx, writable: true}
	if err := fn(x); err != nil {
		return err
	}
	last, err := x.appendEvents(ctx)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: write: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	committed = true
	if last > 0 {
		s.fanout.Publish(last)
	}
	return nil
}

// retryable reports whether err says PostgreSQL aborted the transaction
// for a serialization failure or a deadlock, which running it again can
// cure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// Close waits for the Reads and Writes in flight, then closes the pool.
// Outcomes: nil. After Close, Read and Write report errs.Unavailable and
// Close returns nil.
func (s *Store) Close() error {
	if !s.gate.Close() {
		return nil
	}
	s.listenCancel()
	// Through listenOnce: a Subscribe running now has set listenDone when
	// this returns, and one after it starts no listener.
	s.listenOnce.Do(func() {})
	if s.listenDone != nil {
		<-s.listenDone
	}
	s.fanout.Close()
	s.pool.Close()
	return nil
}
