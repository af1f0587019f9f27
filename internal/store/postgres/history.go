package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
	"github.com/tsprov/tsprov/internal/store/sqlstore"
)

// AddRevision implements store.Tx.AddRevision. Writers of one instance
// are serialised by the row lock of the change the revision records
// (the caller writes the instance first, in the same transaction); the
// statement then reads the last number at READ COMMITTED, after the
// other writer committed. The primary key refuses a number drawn twice.
// The large values that this transaction stored for the instance as they
// are in rev.Instance are not written again: the revision shares them
// (sqlstore/shared.go).
func (x *txn) AddRevision(ctx context.Context, rev *store.Revision) error {
	if err := x.mustWrite("add revision"); err != nil {
		return err
	}
	if err := store.CheckRevision(rev); err != nil {
		return err
	}
	t, err := x.table(rev.Instance.Class)
	if err != nil {
		return err
	}
	rest, shared := x.written.SplitRevision(&t.Layout, rev.Instance)
	data, err := store.EncodeRevision(rest)
	if err != nil {
		return err
	}
	c := rev.Instance.Class
	rev.Class, rev.Key, rev.Time = c.Name, rev.Instance.Key(), time.Now().UTC()
	rev.Size = sqlstore.RevisionSize(len(data), shared)
	err = x.q.QueryRow(ctx, `INSERT INTO tsprov_revisions (class, key, fold_key, rev, at, op, method, user_name, server, comment, restored_from, size, instance, apart)
SELECT $1, $2, $3, COALESCE(MAX(rev), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM tsprov_revisions WHERE class = $1 AND fold_key = $3 RETURNING rev`,
		rev.Class, rev.Key, fold(rev.Key), rev.Time.UnixMicro(), string(rev.Op), rev.Method, rev.User, rev.Server, rev.Comment,
		rev.RestoredFrom, rev.Size, data, len(shared)).Scan(&rev.Rev)
	if err != nil {
		return fmt.Errorf("add a revision of %s %q: %w", rev.Class, rev.Key, err)
	}
	for _, sh := range shared {
		if _, err := x.q.Exec(ctx, `INSERT INTO tsprov_revision_values (class, fold_key, rev, property, value) VALUES ($1, $2, $3, $4, NULL)`,
			rev.Class, fold(rev.Key), rev.Rev, fold(sh.Prop.Name)); err != nil {
			return fmt.Errorf("add a revision of %s %q: %w", rev.Class, rev.Key, err)
		}
	}
	return nil
}

// fillRevision reads the values of r kept in tsprov_revision_values.
func (x *txn) fillRevision(ctx context.Context, r *store.Revision) error {
	rows, err := x.q.Query(ctx, `SELECT v.property, COALESCE(v.value, a.value) FROM tsprov_revision_values AS v
LEFT JOIN tsprov_apart_values AS a ON a.class = $4 AND a.key = v.fold_key AND a.property = v.property
WHERE v.class = $1 AND v.fold_key = $2 AND v.rev = $3`, r.Class, fold(r.Key), r.Rev, fold(r.Class))
	if err != nil {
		return fmt.Errorf("read revision %d of %s %q: %w", r.Rev, r.Class, r.Key, err)
	}
	defer rows.Close()
	return sqlstore.FillRevision(rows, x.s.reg, r)
}

// dropRevisionValues removes the values kept apart of the revisions of
// class and key that where (an SQL condition on rev, its parameters from
// $3 on) selects.
func (x *txn) dropRevisionValues(ctx context.Context, class, key, where string, args ...any) error {
	_, err := x.q.Exec(ctx, `DELETE FROM tsprov_revision_values WHERE class = $1 AND fold_key = $2 AND `+where, append([]any{class, fold(key)}, args...)...)
	if err != nil {
		return fmt.Errorf("remove revision values of %s %q: %w", class, key, err)
	}
	return nil
}

// TrimRevisions implements store.Tx.TrimRevisions.
func (x *txn) TrimRevisions(ctx context.Context, c *cim.Class, key string, keep int64) (int64, error) {
	if err := x.mustWrite("trim revisions"); err != nil {
		return 0, err
	}
	if keep < 1 || store.CheckKey(c, key) != nil {
		return 0, nil
	}
	if err := x.dropRevisionValues(ctx, c.Name, key, `rev <= (SELECT MAX(rev) FROM tsprov_revisions WHERE class = $1 AND fold_key = $2) - $3`, keep); err != nil {
		return 0, err
	}
	tag, err := x.q.Exec(ctx, `DELETE FROM tsprov_revisions WHERE class = $1 AND fold_key = $2 AND rev <= (SELECT MAX(rev) FROM tsprov_revisions WHERE class = $1 AND fold_key = $2) - $3`,
		c.Name, fold(key), keep)
	if err != nil {
		return 0, fmt.Errorf("trim the revisions of %s %q: %w", c.Name, key, err)
	}
	return tag.RowsAffected(), nil
}

// PurgeRevisions implements store.Tx.PurgeRevisions.
func (x *txn) PurgeRevisions(ctx context.Context, c *cim.Class, key string) (int64, error) {
	if err := x.mustWrite("purge revisions"); err != nil {
		return 0, err
	}
	if store.CheckKey(c, key) != nil {
		return 0, nil
	}
	if err := x.dropRevisionValues(ctx, c.Name, key, `true`); err != nil {
		return 0, err
	}
	tag, err := x.q.Exec(ctx, `DELETE FROM tsprov_revisions WHERE class = $1 AND fold_key = $2`, c.Name, fold(key))
	if err != nil {
		return 0, fmt.Errorf("purge the revisions of %s %q: %w", c.Name, key, err)
	}
	return tag.RowsAffected(), nil
}

// Revisions implements store.ReadTx.Revisions.
func (x *txn) Revisions(ctx context.Context, c *cim.Class, key string, after int64, limit int) ([]store.Revision, error) {
	limit, err := store.RevisionsLimit(after, limit)
	if err != nil {
		return nil, err
	}
	if store.CheckKey(c, key) != nil {
		return nil, nil
	}
	rows, err := x.q.Query(ctx, `SELECT `+sqlstore.RevisionColumns+` FROM tsprov_revisions WHERE class = $1 AND fold_key = $2 AND rev > $3 ORDER BY rev LIMIT $4`,
		c.Name, fold(key), after, limit)
	if err != nil {
		return nil, fmt.Errorf("read the revisions of %s %q: %w", c.Name, key, err)
	}
	defer rows.Close()
	var out []store.Revision
	for rows.Next() {
		r, err := sqlstore.ScanRevision(rows, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("read the revisions of %s %q: %w", c.Name, key, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Revision implements store.ReadTx.Revision.
func (x *txn) Revision(ctx context.Context, c *cim.Class, key string, rev int64) (*store.Revision, error) {
	if store.CheckKey(c, key) != nil {
		return nil, store.RevisionNotFound(c, key, rev)
	}
	row := x.q.QueryRow(ctx, `SELECT `+sqlstore.RevisionInstanceColumns+` FROM tsprov_revisions WHERE class = $1 AND fold_key = $2 AND rev = $3`, c.Name, fold(key), rev)
	return sqlstore.ReadRevision(row, pgx.ErrNoRows, x.s.reg, c, key, rev, func(r *store.Revision) error { return x.fillRevision(ctx, r) })
}

// ScanRevisions implements store.ReadTx.ScanRevisions.
func (x *txn) ScanRevisions(ctx context.Context, c *cim.Class, after *store.RevisionPosition, limit int) ([]store.Revision, error) {
	if limit < 1 {
		return nil, errs.Target(errs.Invalid, "limit", "scan revisions: limit %d is not above 0", limit)
	}
	q := `SELECT ` + sqlstore.RevisionInstanceColumns + ` FROM tsprov_revisions WHERE class = $1`
	args := []any{c.Name}
	if after != nil {
		q += ` AND (fold_key > $2 OR (fold_key = $2 AND rev > $3))`
		args = append(args, fold(after.Key), after.Rev)
	}
	rows, err := x.q.Query(ctx, q+fmt.Sprintf(` ORDER BY fold_key, rev LIMIT $%d`, len(args)+1), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("scan the revisions of %s: %w", c.Name, err)
	}
	return sqlstore.ScanRevisions(rows, rows.Close, x.s.reg, c, func(r *store.Revision) error { return x.fillRevision(ctx, r) })
}

// RestoreRevisions implements store.Tx.RestoreRevisions.
func (x *txn) RestoreRevisions(ctx context.Context, revs ...*store.Revision) error {
	if err := x.mustWrite("restore revisions"); err != nil {
		return err
	}
	data, err := sqlstore.EncodeRestored(revs)
	if err != nil {
		return err
	}
	for i, r := range revs {
		var n int
		if err := x.q.QueryRow(ctx, `SELECT COUNT(*) FROM tsprov_revisions WHERE class = $1 AND fold_key = $2 AND rev = $3`, r.Class, fold(r.Key), r.Rev).Scan(&n); err != nil {
			return fmt.Errorf("restore revisions: %w", err)
		}
		if n > 0 {
			return errs.E(errs.Conflict, "%s %q already has revision %d", r.Class, r.Key, r.Rev)
		}
		if _, err := x.q.Exec(ctx, `INSERT INTO tsprov_revisions (class, key, fold_key, rev, at, op, method, user_name, server, comment, restored_from, size, instance)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, r.Class, r.Key, fold(r.Key), r.Rev, r.Time.UnixMicro(), string(r.Op), r.Method, r.User, r.Server, r.Comment,
			r.RestoredFrom, r.Size, data[i]); err != nil {
			return fmt.Errorf("restore revision %d of %s %q: %w", r.Rev, r.Class, r.Key, err)
		}
	}
	return nil
}

// ReplaceRevision implements store.Tx.ReplaceRevision.
func (x *txn) ReplaceRevision(ctx context.Context, rev *store.Revision) error {
	if err := x.mustWrite("replace revision"); err != nil {
		return err
	}
	data, err := sqlstore.EncodeRestored([]*store.Revision{rev})
	if err != nil {
		return err
	}
	tag, err := x.q.Exec(ctx, `UPDATE tsprov_revisions SET instance = $1, size = $2, apart = 0 WHERE class = $3 AND fold_key = $4 AND rev = $5`, data[0], rev.Size, rev.Class, fold(rev.Key), rev.Rev)
	if err != nil {
		return fmt.Errorf("replace revision %d of %s %q: %w", rev.Rev, rev.Class, rev.Key, err)
	}
	if tag.RowsAffected() == 0 {
		return store.RevisionNotFound(rev.Instance.Class, rev.Key, rev.Rev)
	}
	return x.dropRevisionValues(ctx, rev.Class, rev.Key, `rev = $3`, rev.Rev)
}
