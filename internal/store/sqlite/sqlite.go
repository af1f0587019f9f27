// Package sqlite is the embedded store of tsprov: one SQLite file (pure Go
// driver modernc.org/sqlite) in WAL mode, with synchronous=FULL so that an
// acknowledged write survives a crash of the process or of the machine.
//
// Layout (store's rule, driven by the class registry): one table a storable
// class, named as the class, with _key (Instance.Key, compared without
// regard to case), _version and one typed column a row property; lazy and
// large values in tsprov_apart_values; counters in tsprov_counters; the
// layout the class tables were made with in tsprov_class_columns; the
// change feed in tsprov_events (events.go). The fixed
// tables come from the goose migrations in migrations/; the class tables
// are created and extended at Open (layout.go).
//
// Writes go through one connection (BEGIN IMMEDIATE), so writers queue in
// the process instead of failing with SQLITE_BUSY; reads use a separate
// pool of query-only connections and never wait for the writer.
//
// What this store does as the PostgreSQL one does (checking records and
// options, converting values, reserved names, reading rows) is in store
// and store/sqlstore; this package holds SQLite's SQL, its driver's value
// forms (a boolean as an integer) and its single writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// busyTimeoutMS bounds how long a connection waits for a lock held by
// another process (another tsprov on the same file) before SQLITE_BUSY.
const busyTimeoutMS = 10000

// Store is a store.Store kept in one SQLite file.
type Store struct {
	reg    *cim.Registry
	writer *sql.DB // one connection, BEGIN IMMEDIATE
	reader *sql.DB // query-only connections
	tables map[string]*table
	stmts  stmtCache
	gens   *generations // Generation
	fanout store.Fanout // feed positions to Subscribe

	gate sqlstore.Gate // Reads and Writes in flight
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the store in the SQLite file at path
// for the storable classes of reg: it applies the migrations of the fixed
// tables, then creates the table of each storable class and adds a column
// for each property the schema gained since the file was last opened.
// Outcomes: the store; an error of kind errs.Invalid when the file's layout
// contradicts reg (a property whose type or placement changed, a class
// table name that the store reserves; the error names class and property);
// another error when the file cannot be opened or migrated. On error
// nothing is left open.
func Open(ctx context.Context, path string, reg *cim.Registry) (*Store, error) {
	if reg == nil {
		return nil, errs.E(errs.Invalid, "sqlite: open %s: no class registry", path)
	}
	if path == "" {
		return nil, errs.E(errs.Invalid, "sqlite: open: empty path")
	}
	tables, err := newTables(reg)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	s := &Store{reg: reg, writer: writer, tables: tables}
	if err := s.setUp(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	if err := reader.PingContext(ctx); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	s.reader, s.gens = reader, openGenerations(path)
	return s, nil
}

// setUp migrates the fixed tables, then brings the class tables in line
// with the registry.
func (s *Store) setUp(ctx context.Context) error {
	if err := migrate(ctx, s.writer); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error { return syncLayout(ctx, tx, s.tables) })
}

// dsn builds the data source name: the path as a file: URI, the pragmas
// every connection needs, and for the writer BEGIN IMMEDIATE, for readers
// query_only.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + esc.Replace(path) + "?" + q.Encode()
}

// Read runs fn in a read-only transaction on the reader pool; all of fn's
// reads see one snapshot (a WAL read transaction). Outcomes: fn's error as
// is; an error of kind errs.Unavailable after Close; ctx's error (wrapped)
// when ctx ends first; another error when the transaction fails.
func (s *Store) Read(ctx context.Context, fn func(store.ReadTx) error) error {
	if err := s.gate.Enter(backend); err != nil {
		return err
	}
	defer s.gate.Done()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: read: %w", err)
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	x := &txn{s: s, q: tx, db: s.reader}
	func() {
		defer tx.Rollback() // a read transaction has nothing to commit
		err = fn(x)
	}()
	x.cacheMissed(ctx)
	return err
}

// Write runs fn in one transaction on the single writer connection; Writes
// from many goroutines queue for it, so fn must not call Write itself (it
// would wait for its own connection until ctx ends). A Read inside fn sees
// the store as it was before fn's changes. Outcomes: nil, and all fn did is
// durable; fn's error as is, and nothing fn did is kept (also when fn
// panics: the transaction is rolled back and the panic goes on); an error
// of kind errs.Unavailable after Close; ctx's error (wrapped) when ctx ends
// first, nothing kept; another error when begin or commit fails, nothing
// kept.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.gate.Enter(backend); err != nil {
		return err
	}
	defer s.gate.Done()
	var x *txn
	err := s.write(ctx, func(tx *sql.Tx) error {
		x = &txn{s: s, q: tx, db: s.writer, writable: true}
		return fn(x)
	})
	if x != nil {
		x.cacheMissed(ctx)
		if err == nil && x.lastEvent > 0 {
			s.fanout.Publish(x.lastEvent)
		}
	}
	return err
}

func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: write: %w", err)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin write: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	return nil
}

// Close waits for the Reads and Writes in flight, then closes the file.
// Outcomes: nil; an error when a pool fails to close. After Close, Read
// and Write report errs.Unavailable and Close returns nil.
func (s *Store) Close() error {
	if !s.gate.Close() {
		return nil
	}
	s.fanout.Close()
	s.stmts.close()
	// Readers first: the last connection to close checkpoints the WAL.
	return errors.Join(wrapClose("generation", s.gens.close()), wrapClose("reader", s.reader.Close()), wrapClose("writer", s.writer.Close()))
}

func wrapClose(pool string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: close %s: %w", pool, err)
}
