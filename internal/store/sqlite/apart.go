package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// writeApart applies ops to the apart values of key, those of the
// instance in (nil: not known). A value a revision shares is first copied
// to the revision (sqlstore/shared.go).
func (x *txn) writeApart(ctx context.Context, t *table, key string, in *cim.Instance, ops []store.ApartOp) error {
	history := store.HasHistory(t.Class)
	for _, op := range ops {
		var err error
		if history {
			if _, err := x.exec(ctx, `UPDATE tsprov_revision_values SET value =
  (SELECT a.value FROM tsprov_apart_values AS a WHERE a.class = ? AND a.key = ? AND a.property = ?)
WHERE class = ? AND key = ? AND property = ? AND value IS NULL`,
				t.Class.Name, key, op.Prop.Name, t.Class.Name, key, op.Prop.Name); err != nil {
				return fmt.Errorf("keep the revisions' %s.%s of %q: %w", t.Class.Name, op.Prop.Name, key, err)
			}
		}
		if op.Erase {
			_, err = x.exec(ctx,
				`DELETE FROM tsprov_apart_values WHERE class = ? AND key = ? AND property = ?`,
				t.Class.Name, key, op.Prop.Name)
		} else {
			_, err = x.exec(ctx,
				`INSERT INTO tsprov_apart_values (class, key, property, value) VALUES (?, ?, ?, ?)
				 ON CONFLICT (class, key, property) DO UPDATE SET value = excluded.value`,
				t.Class.Name, key, op.Prop.Name, op.JSON)
		}
		if err != nil {
			return fmt.Errorf("write %s.%s of %q: %w", t.Class.Name, op.Prop.Name, key, err)
		}
	}
	if history {
		x.written.Note(t.Class.Name, key, in, ops)
	}
	return nil
}

// deleteApart removes every apart value of key, after copying those that
// revisions share to them.
func (x *txn) deleteApart(ctx context.Context, t *table, key string) error {
	if store.HasHistory(t.Class) {
		if _, err := x.exec(ctx, `UPDATE tsprov_revision_values SET value =
  (SELECT a.value FROM tsprov_apart_values AS a WHERE a.class = ? AND a.key = ? AND a.property = tsprov_revision_values.property)
WHERE class = ? AND key = ? AND value IS NULL`, t.Class.Name, key, t.Class.Name, key); err != nil {
			return fmt.Errorf("keep the revisions' values of %s %q: %w", t.Class.Name, key, err)
		}
		x.written.Forget(&t.Layout, key)
	}
	_, err := x.exec(ctx, `DELETE FROM tsprov_apart_values WHERE class = ? AND key = ?`, t.Class.Name, key)
	if err != nil {
		return fmt.Errorf("delete apart values of %s %q: %w", t.Class.Name, key, err)
	}
	return nil
}

// fillApart sets every apart property of in from the stored values of key
// (nil where none is stored), in one query. Stored values of properties
// the schema no longer declares are ignored.
func (x *txn) fillApart(ctx context.Context, t *table, key string, in *cim.Instance) error {
	if len(t.Apart) == 0 {
		return nil
	}
	rows, err := x.queryRows(ctx,
		`SELECT property, value FROM tsprov_apart_values WHERE class = ? AND key = ?`, t.Class.Name, key)
	if err != nil {
		return fmt.Errorf("read apart values of %s %q: %w", t.Class.Name, key, err)
	}
	defer rows.Close()
	return sqlstore.ScanApart(rows, x.s.reg, &t.Layout, key, in, strings.ToLower)
}
