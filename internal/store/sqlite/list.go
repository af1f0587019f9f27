package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// List implements store.ReadTx.List: one query for the page, rows and
// non-lazy large values together.
func (x *txn) List(ctx context.Context, c *cim.Class, opts store.ListOptions) ([]*store.Record, error) {
	t, err := x.table(c)
	if err != nil {
		return nil, err
	}
	stmt, args, err := t.listSQL(opts)
	if err != nil {
		return nil, err
	}
	recs, _, err := x.query(ctx, t, stmt, args)
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// listSQL is the statement and parameters of a List of t's class.
// Outcomes: those of List's checks (store.CheckList, the filter's
// compilation, the position's values).
func (t *table) listSQL(opts store.ListOptions) (string, []any, error) {
	props, err := store.CheckList(t.Class, opts)
	if err != nil {
		return "", nil, err
	}
	order := t.orderBy(opts.OrderBy, props)
	limit := int64(opts.Limit)
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}
	where, whereArgs, err := t.where(opts.Filter)
	if err != nil {
		return "", nil, err
	}
	if opts.After != nil {
		cond, condArgs, err := t.after(opts, props)
		if err != nil {
			return "", nil, err
		}
		where, whereArgs = andWhere(where, cond), append(whereArgs, condArgs...)
	}
	args := append(append(append([]any{}, t.selectArgs...), whereArgs...), limit, int64(opts.Offset))
	return t.selectSQL + where + " ORDER BY " + order + " LIMIT ? OFFSET ?", args, nil
}

// after is the condition (on alias t) that keeps the rows after
// opts.After in the order orderBy writes, and its parameters.
func (t *table) after(opts store.ListOptions, props []*cim.Property) (string, []any, error) {
	var args []any
	keys := make([]sqlstore.SortKey, 0, len(props)+1)
	for i, p := range props {
		v, err := sqlstore.PositionValue(t.Class, p, opts.After.Values[i], toColumn)
		if err != nil {
			return "", nil, err
		}
		keys = append(keys, sqlstore.SortKey{Expr: sqlstore.ColumnExpr(p, "t."), Desc: opts.OrderBy[i].Desc, Null: v == nil,
			Param: func() string { args = append(args, v); return "?" }})
	}
	keys = append(keys, sqlstore.SortKey{Expr: "t." + sqlstore.KeyColumn,
		Param: func() string { args = append(args, opts.After.Key); return "?" }})
	return sqlstore.After(keys), args, nil
}

// andWhere adds cond to where (" WHERE …" or nothing).
func andWhere(where, cond string) string {
	if where == "" {
		return " WHERE " + cond
	}
	return where + " AND " + cond
}

// orderBy returns the ORDER BY list for orders, whose properties
// store.CheckList resolved (props), ending with the key so that the order
// is total. Strings order without regard to case (their columns'
// collation), DateTime values by instant, nulls first ascending and last
// descending.
func (t *table) orderBy(orders []store.Order, props []*cim.Property) string {
	parts := make([]string, 0, len(orders)+1)
	for i, o := range orders {
		p := props[i]
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts = append(parts, sqlstore.ColumnExpr(p, "t.")+dir)
	}
	parts = append(parts, "t."+sqlstore.KeyColumn+" ASC")
	return strings.Join(parts, ", ")
}

// Scan implements store.ReadTx.Scan: one query for the page's rows (in
// the order of the key's index), one for their apart values (a range of
// the apart values' primary key, from the key after to the page's last).
func (x *txn) Scan(ctx context.Context, c *cim.Class, after *string, limit int) ([]*store.Record, error) {
	t, err := x.table(c)
	if err != nil {
		return nil, err
	}
	if err := store.CheckScan(t.Class, limit); err != nil {
		return nil, err
	}
	rowsWhere, apartWhere, args := "", "", []any{t.Class.Name}
	if after != nil {
		rowsWhere = " WHERE t." + sqlstore.KeyColumn + " > ?"
		apartWhere = " AND key > ?"
		args = append(args, *after)
	}
	recs, keys, err := x.query(ctx, t, t.selectSQL+rowsWhere+" ORDER BY t."+sqlstore.KeyColumn+" LIMIT ?",
		append(append(append([]any{}, t.selectArgs...), args[1:]...), int64(limit)))
	if err != nil || len(recs) == 0 || len(t.Apart) == 0 {
		return recs, err
	}
	byKey := make(map[string]*cim.Instance, len(recs))
	for i, r := range recs {
		byKey[query.Fold(keys[i])] = r.Instance
	}
	rows, err := x.queryRows(ctx, `SELECT key, property, value FROM tsprov_apart_values WHERE class = ?`+apartWhere+` AND key <= ?`,
		append(args, keys[len(keys)-1])...)
	if err != nil {
		return nil, fmt.Errorf("read apart values of %s: %w", t.Class.Name, err)
	}
	defer rows.Close()
	if err := sqlstore.ScanApartPage(rows, x.s.reg, &t.Layout, byKey, query.Fold, strings.ToLower); err != nil {
		return nil, err
	}
	return recs, nil
}
