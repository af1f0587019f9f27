package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
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
	return x.query(ctx, t, stmt, args)
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
	where, args, err := t.where(opts.Filter)
	if err != nil {
		return "", nil, err
	}
	if opts.After != nil {
		cond, condArgs, err := t.after(opts, props, len(args))
		if err != nil {
			return "", nil, err
		}
		if where == "" {
			where = " WHERE " + cond
		} else {
			where += " AND " + cond
		}
		args = append(args, condArgs...)
	}
	var limit any // null: no limit
	if opts.Limit > 0 {
		limit = int64(opts.Limit)
	}
	page := fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(args)+1, len(args)+2)
	args = append(args, limit, int64(opts.Offset))
	return t.selectSQL + where + " ORDER BY " + order + page, args, nil
}

// after is the condition (on alias t) that keeps the rows after
// opts.After in the order orderBy writes, and its parameters, numbered
// after the first n.
func (t *table) after(opts store.ListOptions, props []*cim.Property, n int) (string, []any, error) {
	var args []any
	param := func(v any, typ string) func() string {
		return func() string {
			args = append(args, v)
			return fmt.Sprintf("$%d::%s", n+len(args), typ)
		}
	}
	keys := make([]sqlstore.SortKey, 0, len(props)+1)
	for i, p := range props {
		v, err := sqlstore.PositionValue(t.Class, p, opts.After.Values[i], store.ToColumn)
		if err != nil {
			return "", nil, err
		}
		typ, _ := columnType(p.Type)      // checked by newTable
		typ, _, _ = strings.Cut(typ, " ") // without its collation
		k := sqlstore.SortKey{Expr: orderKey(p, "t."), Desc: opts.OrderBy[i].Desc, Null: v == nil, Param: param(v, typ)}
		if p.Type.Kind == cim.String || p.Type.Kind == cim.Char16 {
			k.Param = func() string { return foldSQL(param(v, "text")()) }
		}
		keys = append(keys, k)
	}
	key := param(opts.After.Key, "text")
	keys = append(keys, sqlstore.SortKey{Expr: foldFunc + "(t." + sqlstore.KeyColumn + ")",
		Param: func() string { return foldFunc + "(" + key() + ")" }})
	return sqlstore.After(keys), args, nil
}

// orderBy returns the ORDER BY list for orders, whose properties
// store.CheckList resolved (props), ending with the key so that the order
// is total. Strings order by their folded form (fold.go), byte by byte, as
// on the SQLite store; DateTime values by instant (their text form sorts
// so); nulls first ascending and last descending.
func (t *table) orderBy(orders []store.Order, props []*cim.Property) string {
	parts := make([]string, 0, len(orders)+1)
	for i, o := range orders {
		p := props[i]
		dir := " ASC NULLS FIRST"
		if o.Desc {
			dir = " DESC NULLS LAST"
		}
		parts = append(parts, orderKey(p, "t.")+dir)
	}
	parts = append(parts, foldFunc+"(t."+sqlstore.KeyColumn+") ASC")
	return strings.Join(parts, ", ")
}

// orderKey is what the column of property p (its name prefixed with
// qualifier, "t." or "") orders by and its index holds: strings folded
// (foldSQL), other values in their compared form (sqlstore.ColumnExpr).
func orderKey(p *cim.Property, qualifier string) string {
	col := sqlstore.ColumnExpr(p, qualifier)
	if p.Type.Kind == cim.String || p.Type.Kind == cim.Char16 {
		return foldSQL(col)
	}
	return col
}

// Scan implements store.ReadTx.Scan: one query for the page's rows (in
// the order of the folded key's index), one for their apart values (a
// range of the apart values' primary key, from the key after to the
// page's last, both folded).
func (x *txn) Scan(ctx context.Context, c *cim.Class, after *string, limit int) ([]*store.Record, error) {
	t, err := x.table(c)
	if err != nil {
		return nil, err
	}
	if err := store.CheckScan(t.Class, limit); err != nil {
		return nil, err
	}
	key := foldFunc + "(t." + sqlstore.KeyColumn + ")"
	rowsWhere, apartWhere, args := "", "", []any{fold(t.Class.Name)}
	if after != nil {
		rowsWhere = " WHERE " + key + " > $1"
		apartWhere = " AND key > $2"
		args = append(args, fold(*after))
	}
	rows, err := x.q.Query(ctx, t.selectSQL+rowsWhere+fmt.Sprintf(" ORDER BY %s LIMIT $%d", key, len(args)), append(args[1:], int64(limit))...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.Class.Name, err)
	}
	recs, keys, err := sqlstore.ScanRecords(rows, x.s.reg, &t.Layout, x.s.fromColumn)
	rows.Close()
	if err != nil || len(recs) == 0 || len(t.Apart) == 0 {
		return recs, err
	}
	byKey := make(map[string]*cim.Instance, len(recs))
	for i, r := range recs {
		byKey[fold(keys[i])] = r.Instance
	}
	args = append(args, fold(keys[len(keys)-1]))
	rows, err = x.q.Query(ctx, fmt.Sprintf(`SELECT key, property, value FROM tsprov_apart_values WHERE class = $1%s AND key <= $%d`, apartWhere, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("read apart values of %s: %w", t.Class.Name, err)
	}
	defer rows.Close()
	if err := sqlstore.ScanApartPage(rows, x.s.reg, &t.Layout, byKey, func(k string) string { return k }, fold); err != nil {
		return nil, err
	}
	return recs, nil
}
