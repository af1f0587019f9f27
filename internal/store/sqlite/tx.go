package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// txn is a store.Tx over one SQL transaction: a read transaction on the
// reader pool (Read) or the write transaction (Write).
type txn struct {
	s        *Store
	q        *sql.Tx
	db       *sql.DB // the pool q belongs to: statements are prepared on it
	writable bool
	stmts    map[string]*sql.Stmt // the statements this transaction obtained, by text (stmt)
	missed   []string             // statements prepared in this transaction, to cache after it

	lastEvent int64                // the feed position of the last change recorded, 0 if none
	written   sqlstore.ApartWrites // the large apart values this transaction stored (sqlstore/shared.go)
}

var _ store.Tx = (*txn)(nil)

// table returns the layout of class c (sqlstore.Lookup).
func (x *txn) table(c *cim.Class) (*table, error) { return sqlstore.Lookup(x.s.tables, backend, c) }

// mustWrite guards the writing methods against a read transaction
// (sqlstore.MustWrite).
func (x *txn) mustWrite(op string) error { return sqlstore.MustWrite(backend, x.writable, op) }

// Get implements store.ReadTx.Get: one query for the row and its non-lazy
// large values, and with lazy one more for the lazy values.
func (x *txn) Get(ctx context.Context, c *cim.Class, key string, lazy bool) (*store.Record, error) {
	t, err := x.table(c)
	if err != nil {
		return nil, err
	}
	if err := store.CheckKey(c, key); err != nil {
		return nil, err
	}
	args := append(append([]any{}, t.selectArgs...), key)
	recs, keys, err := x.query(ctx, t, t.selectSQL+" WHERE t."+sqlstore.KeyColumn+" = ?", args)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, store.NotFound(t.Class, key)
	}
	rec := recs[0]
	if lazy {
		if err := x.fillApart(ctx, t, keys[0], rec.Instance); err != nil {
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
	if err := x.queryRow(ctx, stmt, args...).Scan(&n); err != nil {
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
	return t.countSQL + " AS t" + where, args, nil
}

// query runs a select built on t.selectSQL and reads its rows. Outcomes:
// the records and their stored keys (possibly none); an error when the
// query fails or a stored value does not read back.
func (x *txn) query(ctx context.Context, t *table, stmt string, args []any) ([]*store.Record, []string, error) {
	rows, err := x.queryRows(ctx, stmt, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", t.Class.Name, err)
	}
	defer rows.Close()
	return sqlstore.ScanRecords(rows, x.s.reg, &t.Layout, x.s.fromColumn)
}
