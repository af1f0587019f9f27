package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCache keeps one prepared statement per pool and SQL text. Parsing a
// statement costs more than running it (a class row has dozens of
// columns), and database/sql keeps each prepared statement ready on every
// connection that has used it.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[stmtKey]*sql.Stmt
}

type stmtKey struct {
	db  *sql.DB
	sql string
}

// maxCachedStmts bounds the cache (list queries vary with their ORDER BY).
const maxCachedStmts = 512

// lookup returns the cached statement for text on db, if any.
func (c *stmtCache) lookup(db *sql.DB, text string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.stmts[stmtKey{db, text}]
	return st, ok
}

// add prepares text on db and caches it. It must be called outside any
// transaction of db: preparing takes a connection of the pool, and the
// writer pool has only one.
func (c *stmtCache) add(ctx context.Context, db *sql.DB, text string) {
	if _, ok := c.lookup(db, text); ok {
		return
	}
	st, err := db.PrepareContext(ctx, text)
	if err != nil {
		return // the statement ran in its transaction; it just stays uncached
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.stmts[stmtKey{db, text}]; ok || len(c.stmts) >= maxCachedStmts {
		_ = st.Close()
		return
	}
	if c.stmts == nil {
		c.stmts = map[stmtKey]*sql.Stmt{}
	}
	c.stmts[stmtKey{db, text}] = st
}

// close releases every statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = nil
}

// stmt returns text prepared for this transaction: the one this
// transaction used before, else the cached statement, else one prepared
// on the transaction's connection, noted so that it is cached once the
// transaction is over (see cacheMissed). database/sql keeps every
// statement a transaction obtains (and SQLite the memory of each one it
// prepares) until the transaction ends, so a transaction obtains each
// text once, however many times it runs it: a long one (tsprov migrate
// reads a whole store in one) would otherwise grow with every statement
// it runs.
func (x *txn) stmt(ctx context.Context, text string) (*sql.Stmt, error) {
	if st, ok := x.stmts[text]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if cached, ok := x.s.stmts.lookup(x.db, text); ok {
		st = x.q.StmtContext(ctx, cached)
	} else {
		var err error
		if st, err = x.q.PrepareContext(ctx, text); err != nil {
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		x.missed = append(x.missed, text)
	}
	if x.stmts == nil {
		x.stmts = map[string]*sql.Stmt{}
	}
	x.stmts[text] = st
	return st, nil
}

// cacheMissed prepares, outside the transaction, the statements it had to
// prepare itself.
func (x *txn) cacheMissed(ctx context.Context) {
	for _, text := range x.missed {
		x.s.stmts.add(ctx, x.db, text)
	}
}

func (x *txn) exec(ctx context.Context, text string, args ...any) (sql.Result, error) {
	st, err := x.stmt(ctx, text)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (x *txn) queryRows(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	st, err := x.stmt(ctx, text)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// rowResult is a single-row answer whose preparation may have failed.
type rowResult struct {
	row *sql.Row
	err error
}

func (r rowResult) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.row.Scan(dest...)
}

func (x *txn) queryRow(ctx context.Context, text string, args ...any) rowResult {
	st, err := x.stmt(ctx, text)
	if err != nil {
		return rowResult{err: err}
	}
	return rowResult{row: st.QueryRowContext(ctx, args...)}
}
