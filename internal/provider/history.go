package provider

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store"
)

// History (docs/history-diff-lint-plan.md). Every change to an instance
// of a class with the History qualifier (SMS_TaskSequencePackage) adds a
// revision in the transaction of the change: creation, PUT, PATCH,
// SetSequence, SetSourceSite, Unlock, a restore and the deletion. A
// revision names who made the change, on which server, through which
// method, and the comment the caller gave (WithComment).

// MaxCommentLength bounds a revision's comment, in characters.
const MaxCommentLength = 1000

type commentKey struct{}

// WithComment returns a context whose changes record comment with their
// revisions (the X-Tsprov-Comment header, tsprov … --message).
// Outcomes: the context; errs.Invalid when the comment is longer than
// MaxCommentLength or is not text a store keeps.
func WithComment(ctx context.Context, comment string) (context.Context, error) {
	if n := len([]rune(comment)); n > MaxCommentLength {
		return nil, errs.Target(errs.Invalid, "comment", "the comment has %d characters, more than %d", n, MaxCommentLength)
	}
	if err := cim.CheckText(comment); err != nil {
		return nil, errs.Target(errs.Invalid, "comment", "the comment: %w", err)
	}
	return context.WithValue(ctx, commentKey{}, comment), nil
}

type restoredKey struct{}

// historyRules adds the revisions of the classes with history.
type historyRules struct{ p *Provider }

func (r historyRules) appliesTo(c *cim.Class) bool { return store.HasHistory(c) }
func (historyRules) beforeCreate(context.Context, store.Tx, *cim.Instance) error {
	return nil
}
func (historyRules) beforeUpdate(context.Context, store.Tx, *cim.Instance, *cim.Instance, *cim.Instance) error {
	return nil
}
func (historyRules) settle(context.Context, store.Tx, *cim.Instance, *cim.Instance) error {
	return nil
}

func (r historyRules) afterWrite(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	return r.p.addRevision(ctx, tx, old, next)
}

// addRevision records the change from old to next (old nil: created; next
// nil: deleted) and applies the retention (Config.HistoryKeep).
func (p *Provider) addRevision(ctx context.Context, tx store.Tx, old, next *cim.Instance) error {
	rev := store.Revision{Instance: next, Op: store.Modified, Server: p.server}
	switch {
	case old == nil:
		rev.Op = store.Created
	case next == nil:
		rev.Op, rev.Instance = store.Deleted, old
	}
	rev.Method, _ = ctx.Value(methodKey{}).(string)
	rev.Comment, _ = ctx.Value(commentKey{}).(string)
	rev.RestoredFrom, _ = ctx.Value(restoredKey{}).(int64)
	if pr, ok := auth.FromContext(ctx); ok {
		rev.User = pr.User
	}
	if err := tx.AddRevision(ctx, &rev); err != nil {
		return fmt.Errorf("history of %s: %w", rev.Instance.Key(), err)
	}
	if p.historyKeep > 0 {
		if _, err := tx.TrimRevisions(ctx, rev.Instance.Class, rev.Key, p.historyKeep); err != nil {
			return err
		}
	}
	return nil
}

// Revision is a revision as the caller may read it: the instance with its
// secrets emptied, as Get shows it.
type Revision = store.Revision

// historyClass returns the class of a history request.
func (p *Provider) historyClass(className string) (*cim.Class, error) {
	c, err := p.Class(className)
	if err != nil {
		return nil, err
	}
	if !store.HasHistory(c) {
		return nil, errs.E(errs.Invalid, "class %s keeps no history", c.Name)
	}
	return c, nil
}

// historyReadable decides whether the caller may read the history of an
// instance: one that exists needs Read on it (one the caller may not see
// is NotFound); the history of a deleted one is for administrators (Full
// Administrator with all scopes) only. It returns the key as stored when
// the instance exists, and whether it does.
func (p *Provider) historyReadable(ctx context.Context, tx store.ReadTx, c *cim.Class, key string) (string, bool, error) {
	pr, err := p.authorize(ctx, c, key, auth.Read)
	if err != nil {
		return "", false, err
	}
	rec, err := p.getVisible(ctx, tx, pr, c, key, false)
	switch {
	case err == nil:
		return rec.Instance.Key(), true, nil
	case !errs.Is(err, errs.NotFound):
		return "", false, err
	case !pr.All:
		return "", false, err
	}
	return key, false, nil
}

// History returns the revisions of an instance numbered after after,
// oldest first, at most top (0: store.MaxRevisionsPage), without their
// instances. Outcomes: the revisions; errs.NotFound for an instance the
// caller may not see, or a deleted one when the caller is not an
// administrator, or one that never had a revision; errs.Invalid for a
// class without history or negative paging; errs.Forbidden without Read.
func (p *Provider) History(ctx context.Context, className, key string, after int64, top int) ([]Revision, error) {
	c, err := p.historyClass(className)
	if err != nil {
		return nil, err
	}
	var out []Revision
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		k, exists, err := p.historyReadable(ctx, tx, c, key)
		if err != nil {
			return err
		}
		if out, err = tx.Revisions(ctx, c, k, after, top); err != nil {
			return err
		}
		if !exists && after == 0 && len(out) == 0 {
			return errs.Target(errs.NotFound, key, "%s(%q) not found, and it has no history", c.Name, key)
		}
		return nil
	})
	if err != nil {
		return nil, p.audited(ctx, fmt.Errorf("history of %s(%q): %w", c.Name, key, err))
	}
	return out, nil
}

// GetRevision returns one revision with the instance as it was, secrets
// emptied. Outcomes: as History's; errs.NotFound for a revision not kept.
func (p *Provider) GetRevision(ctx context.Context, className, key string, rev int64) (*Revision, error) {
	c, err := p.historyClass(className)
	if err != nil {
		return nil, err
	}
	var out *Revision
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		k, _, err := p.historyReadable(ctx, tx, c, key)
		if err != nil {
			return err
		}
		out, err = tx.Revision(ctx, c, k, rev)
		return err
	})
	if err != nil {
		return nil, p.audited(ctx, fmt.Errorf("revision %d of %s(%q): %w", rev, c.Name, key, err))
	}
	stripSealed(out.Instance)
	return out, nil
}

// RestoreRevision makes the instance what revision rev held, as a new
// revision (history is never rewritten), through the write path every
// update takes: permissions, SEDO locks, the class rules, the sealing of
// secrets and the change event apply. For a task sequence package the
// writable properties and the sequence are restored (the sequence with
// its secrets as they were, sealed); the derived properties follow.
// Outcomes: the stored object; errs.NotFound for an unknown instance or
// revision; errs.Conflict for a deleted instance (its history is readable;
// a restore needs the instance) or a revision of a deletion; the errors
// of Update.
func (p *Provider) RestoreRevision(ctx context.Context, className, key string, rev int64) (*Object, error) {
	c, err := p.historyClass(className)
	if err != nil {
		return nil, err
	}
	old, err := p.storedRevision(ctx, c, key, rev)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, restoredKey{}, rev)
	if s, _ := ctx.Value(commentKey{}).(string); s == "" {
		ctx = context.WithValue(ctx, commentKey{}, fmt.Sprintf("restore of revision %d", rev))
	}
	sent := cim.NewInstance(c)
	for _, prop := range c.Properties {
		if !prop.IsReadOnly() || prop.IsKey() {
			sent.Values[prop.Name] = old.Values[prop.Name]
		}
	}
	var server serverValues
	if c.IsA(tsPackageClass) {
		ts, err := p.sequenceOf(old)
		if err != nil {
			return nil, err
		}
		var txp store.Tx
		server = func(inst *cim.Instance) error { return p.applySequenceWith(ctx, txp, inst, ts, p.sealRestored) }
		var stored *store.Record
		err = p.write(ctx, func(tx store.Tx) error {
			txp = tx
			inst, err := p.updateTx(ctx, tx, c, key, sent, Replace, "", server)
			if err != nil {
				return err
			}
			stored, err = p.readBack(ctx, tx, c, inst.Key())
			return err
		})
		if err != nil {
			return nil, p.audited(ctx, fmt.Errorf("restore %s(%q) to revision %d: %w", c.Name, key, rev, err))
		}
		return p.object(stored), nil
	}
	return p.Update(ctx, c.Name, key, sent, Replace, "")
}

// storedRevision reads a revision to restore, sealed values intact, after
// the checks of GetRevision.
func (p *Provider) storedRevision(ctx context.Context, c *cim.Class, key string, rev int64) (*cim.Instance, error) {
	var out *store.Revision
	err := p.st.Read(ctx, func(tx store.ReadTx) error {
		k, exists, err := p.historyReadable(ctx, tx, c, key)
		if err != nil {
			return err
		}
		if !exists {
			return errs.E(errs.Conflict, "%s(%q) was deleted: its history can be read, but a restore needs the instance", c.Name, key)
		}
		out, err = tx.Revision(ctx, c, k, rev)
		return err
	})
	if err != nil {
		return nil, p.audited(ctx, fmt.Errorf("restore %s(%q) to revision %d: %w", c.Name, key, rev, err))
	}
	if out.Op == store.Deleted {
		return nil, errs.E(errs.Conflict, "revision %d of %s(%q) records its deletion: restore the revision before it", rev, c.Name, key)
	}
	return out.Instance, nil
}

// PurgeHistory removes the history of a deleted instance and returns how
// many revisions it removed. Only administrators (Full Administrator with
// all scopes) may; the purge is audited. Outcomes: the count;
// errs.Forbidden for anyone else; errs.Conflict while the instance exists
// (delete it first); errs.NotFound when it has no history.
func (p *Provider) PurgeHistory(ctx context.Context, className, key string) (int64, error) {
	c, err := p.historyClass(className)
	if err != nil {
		return 0, err
	}
	pr, err := caller(ctx)
	if err != nil {
		return 0, err
	}
	if !pr.All {
		return 0, p.audited(ctx, &deniedError{
			err: errs.E(errs.Forbidden, "%s may not purge history: only a Full Administrator with all scopes may", pr.User),
			pr:  pr, class: c.Name, key: key, op: auth.Delete,
		})
	}
	var n int64
	err = p.write(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(ctx, c, key, false); err == nil {
			return errs.E(errs.Conflict, "%s(%q) exists: only the history of a deleted instance can be purged", c.Name, key)
		} else if !errs.Is(err, errs.NotFound) {
			return err
		}
		var err error
		if n, err = tx.PurgeRevisions(ctx, c, key); err != nil {
			return err
		}
		if n == 0 {
			return errs.Target(errs.NotFound, key, "%s(%q) has no history", c.Name, key)
		}
		return p.audit(ctx, tx, auditEntry{pr: pr, action: "PurgeHistory", class: c.Name, key: key,
			detail: fmt.Sprintf("%d revisions", n)})
	})
	if err != nil {
		return 0, fmt.Errorf("purge the history of %s(%q): %w", c.Name, key, err)
	}
	return n, nil
}

// Version names a task sequence package as it is (Rev 0) or one of its
// revisions.
type Version struct {
	Key string
	Rev int64
}

// SequencesToCompare returns two versions of task sequence packages with
// their sequences parsed, for a diff. Their secrets are never returned:
// each sealed value is replaced by a token that two values share exactly
// when their secrets are equal (an HMAC of the secret under a key drawn
// for this call and forgotten after it), so that a diff sees a secret
// change without seeing the secret; a value no key opens becomes
// "(secret)". The read rules are those of Get (Rev 0) and GetRevision.
// Outcomes: the packages and sequences; their errors; errs.Invalid for a
// negative Rev.
func (p *Provider) SequencesToCompare(ctx context.Context, from, to Version) (pkgs, seqs [2]*cim.Instance, err error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return pkgs, seqs, err
	}
	for i, v := range []Version{from, to} {
		if pkgs[i], err = p.storedVersion(ctx, v); err != nil {
			return pkgs, seqs, err
		}
	}
	// the two sequences are parsed at once, each on a core of its own
	var errs2 [2]error
	var wg sync.WaitGroup
	for i := range pkgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seqs[i], errs2[i] = p.sequenceOf(pkgs[i])
		}()
	}
	wg.Wait()
	for i := range pkgs {
		if errs2[i] != nil {
			return pkgs, seqs, errs2[i]
		}
		secretSlots(seqs[i], nil, func(_ *slotPath, owner *cim.Instance, prop *cim.Property) {
			s, _ := owner.Values[prop.Name].(string)
			if !secrets.IsSealed(s) {
				return
			}
			owner.Values[prop.Name] = "(secret)"
			if plain, err := p.box.Open(s); err == nil {
				mac := hmac.New(sha256.New, key)
				mac.Write([]byte(plain))
				owner.Values[prop.Name] = "(secret " + hex.EncodeToString(mac.Sum(nil)[:12]) + ")"
			}
		})
		stripTree(seqs[i])
		stripSealed(pkgs[i])
	}
	return pkgs, seqs, nil
}

// storedVersion reads a version of a task sequence package as stored,
// sealed values intact, after the checks of Get or GetRevision.
func (p *Provider) storedVersion(ctx context.Context, v Version) (*cim.Instance, error) {
	c, err := p.Class(tsPackageClass)
	if err != nil {
		return nil, err
	}
	if v.Rev < 0 {
		return nil, errs.Target(errs.Invalid, "rev", "revision %d is negative", v.Rev)
	}
	var out *cim.Instance
	err = p.st.Read(ctx, func(tx store.ReadTx) error {
		if v.Rev == 0 {
			pr, err := p.authorize(ctx, c, v.Key, auth.Read)
			if err != nil {
				return err
			}
			rec, err := p.getVisible(ctx, tx, pr, c, v.Key, true)
			if err != nil {
				return err
			}
			out = rec.Instance
			return nil
		}
		k, _, err := p.historyReadable(ctx, tx, c, v.Key)
		if err != nil {
			return err
		}
		r, err := tx.Revision(ctx, c, k, v.Rev)
		if err != nil {
			return err
		}
		out = r.Instance
		return nil
	})
	if err != nil {
		return nil, p.audited(ctx, fmt.Errorf("read %s(%q) at revision %d: %w", c.Name, v.Key, v.Rev, err))
	}
	return out, nil
}

// ParseSequence reads a task sequence file of any shape into the object
// model (the codec of the provider's registry). Outcomes: the sequence;
// errs.Invalid or errs.TooLarge saying what is wrong.
func (p *Provider) ParseSequence(data []byte) (*cim.Instance, error) {
	ts, _, err := p.codec.Parse(data)
	return ts, err
}
