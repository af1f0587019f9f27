package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// writeApart applies ops to the apart values of key (folded), those of
// the instance in (nil: not known), all in one round trip (a pgx batch).
// A value a revision shares is first copied to the revision
// (sqlstore/shared.go).
func (x *txn) writeApart(ctx context.Context, t *table, key string, in *cim.Instance, ops []store.ApartOp) error {
	if len(ops) == 0 {
		return nil
	}
	class := fold(t.Class.Name)
	history := store.HasHistory(t.Class)
	var b pgx.Batch
	n := 0
	for _, op := range ops {
		if history {
			b.Queue(`UPDATE tsprov_revision_values SET value =
  (SELECT a.value FROM tsprov_apart_values AS a WHERE a.class = $1 AND a.key = $2 AND a.property = $3)
WHERE class = $4 AND fold_key = $2 AND property = $3 AND value IS NULL`, class, key, fold(op.Prop.Name), t.Class.Name)
			n++
		}
		n++
		if op.Erase {
			b.Queue(`DELETE FROM tsprov_apart_values WHERE class = $1 AND key = $2 AND property = $3`,
				class, key, fold(op.Prop.Name))
			continue
		}
		b.Queue(`INSERT INTO tsprov_apart_values (class, key, property, value) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (class, key, property) DO UPDATE SET value = excluded.value`,
			class, key, fold(op.Prop.Name), op.JSON)
	}
	res := x.q.SendBatch(ctx, &b)
	for range n {
		if _, err := res.Exec(); err != nil {
			res.Close()
			return fmt.Errorf("write apart values of %s %q: %w", t.Class.Name, key, err)
		}
	}
	if err := res.Close(); err != nil {
		return fmt.Errorf("write apart values of %s %q: %w", t.Class.Name, key, err)
	}
	if history {
		x.written.Note(t.Class.Name, key, in, ops)
	}
	return nil
}

// deleteApart removes every apart value of key (folded), after copying
// those that revisions share to them.
func (x *txn) deleteApart(ctx context.Context, t *table, key string) error {
	if store.HasHistory(t.Class) {
		if _, err := x.q.Exec(ctx, `UPDATE tsprov_revision_values AS v SET value =
  (SELECT a.value FROM tsprov_apart_values AS a WHERE a.class = $1 AND a.key = $2 AND a.property = v.property)
WHERE v.class = $3 AND v.fold_key = $2 AND v.value IS NULL`, fold(t.Class.Name), key, t.Class.Name); err != nil {
			return fmt.Errorf("keep the revisions' values of %s %q: %w", t.Class.Name, key, err)
		}
		x.written.Forget(&t.Layout, key)
	}
	_, err := x.q.Exec(ctx, `DELETE FROM tsprov_apart_values WHERE class = $1 AND key = $2`, fold(t.Class.Name), key)
	if err != nil {
		return fmt.Errorf("delete apart values of %s %q: %w", t.Class.Name, key, err)
	}
	return nil
}

// fillApart sets every apart property of in from the stored values of key
// (folded; nil where none is stored), in one query. Stored values of
// properties the schema no longer declares are ignored.
func (x *txn) fillApart(ctx context.Context, t *table, key string, in *cim.Instance) error {
	if len(t.Apart) == 0 {
		return nil
	}
	rows, err := x.q.Query(ctx,
		`SELECT property, value FROM tsprov_apart_values WHERE class = $1 AND key = $2`, fold(t.Class.Name), key)
	if err != nil {
		return fmt.Errorf("read apart values of %s %q: %w", t.Class.Name, key, err)
	}
	defer rows.Close()
	return sqlstore.ScanApart(rows, x.s.reg, &t.Layout, key, in, fold)
}
