package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// txn is a store.Tx over one PostgreSQL transaction: a read transaction
// (Read) or a write transaction (Write). pgx prepares and caches each
// statement text on each connection.
type txn struct {
	s        *Store
	q        pgx.Tx
	writable bool
	pending  []store.Event        // the changes to append to the feed at commit (events.go)
	written  sqlstore.ApartWrites // the large apart values this transaction stored (sqlstore/shared.go)
}

var _ store.Tx = (*txn)(nil)

// table returns the layout of class c (sqlstore.Lookup).
func (x *txn) table(c *cim.Class) (*table, error) { return sqlstore.Lookup(x.s.tables, backend, c) }

// mustWrite guards the writing methods against a read transaction
// (sqlstore.MustWrite).
func (x *txn) mustWrite(op string) error { return sqlstore.MustWrite(backend, x.writable, op) }

// Get implements store.ReadTx.Get: one query for the row and its non-lazy
// large values, and with lazy one more for the lazy values. In a Write it
// first locks the row (SELECT … FOR UPDATE), waiting for any other
// writer of the instance; the reads that follow, each a statement of its
// own at READ COMMITTED, then see that writer's committed result.
func (x *txn) Get(ctx context.Context, c *cim.Class, key string, lazy bool) (*store.Record, error) {
	t, err := x.table(c)
	if err != nil {
		return nil, err
	}
	if err := store.CheckKey(c, key); err != nil {
		return nil, err
	}
	k := fold(key)
	if x.writable {
		if _, err := x.q.Exec(ctx, t.lockSQL, k); err != nil {
			return nil, fmt.Errorf("lock %s %q: %w", t.Class.Name, key, err)
		}
	}
	recs, err := x.query(ctx, t, t.selectSQL+" WHERE "+foldFunc+"(t."+sqlstore.KeyColumn+") = $1", []any{k})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, store.NotFound(t.Class, key)
	}
	rec := recs[0]
	if lazy {
		if err := x.fillApart(ctx, t, k, rec.Instance); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// Count implements store.ReadTx.Count.
func (x *txn) Count(ctx context.Context, c *cim.Class, filter query.Expr) (int64, error) {
	t, err := x.table(c)
	if err != nil {
		return 0, err
	}
	stmt, args, err := t.countStatement(filter)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := x.q.QueryRow(ctx, stmt, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", t.Class.Name, err)
	}
	return n, nil
}

// countStatement is the statement Count runs for filter, and its
// arguments.
func (t *table) countStatement(filter query.Expr) (string, []any, error) {
	where, args, err := t.where(filter)
	if err != nil {
		return "", nil, err
	}
	return t.countSQL + where, args, nil
}

// query runs a select built on t.selectSQL and reads its rows. Outcomes:
// the records (possibly none); an error when the query fails or a stored
// value does not read back.
func (x *txn) query(ctx context.Context, t *table, stmt string, args []any) ([]*store.Record, error) {
	rows, err := x.q.Query(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.Class.Name, err)
	}
	defer rows.Close()
	recs, _, err := sqlstore.ScanRecords(rows, x.s.reg, &t.Layout, x.s.fromColumn)
	return recs, err
}
