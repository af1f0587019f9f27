package store

import (
	"fmt"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
)

// History. A caller that changes an instance of a class with history
// (HasHistory) adds a Revision in the transaction of the change
// (Tx.AddRevision): the revision commits exactly when the change does. A
// revision holds the whole instance as the store holds it (lazy and large
// values, secrets as sealed), so that a reader sees the instance as it was
// and a restore writes it again. Revisions are numbered 1, 2, … per
// instance (class and key, the key without regard to case) and outlive the
// instance's deletion until PurgeRevisions removes them.

// HistoryQualifier marks a class whose changes are kept as revisions.
const HistoryQualifier = "History"

// HasHistory reports whether the changes of c are kept as revisions.
func HasHistory(c *cim.Class) bool { return c.Qualifiers.Has(HistoryQualifier) }

// MaxRevisionsPage is the most revisions one Revisions call returns.
const MaxRevisionsPage = 1000

// Revision is one version of an instance in its history.
type Revision struct {
	Class string
	Key   string // Instance.Key of the instance
	// Rev numbers the revisions of one instance from 1, in commit order
	// (AddRevision sets it).
	Rev int64
	// Time is when the revision was added, UTC (AddRevision sets it).
	Time time.Time
	// Op says what made the revision: Created, Modified, Invoked (a
	// method, named by Method) or Deleted (Instance is the instance as it
	// was before its deletion).
	Op     EventOp
	Method string
	// User is the logon name of who made the change, Server the server
	// that made it, Comment what its author said of it.
	User, Server, Comment string
	// RestoredFrom is the revision this one restored (0 for none).
	RestoredFrom int64
	// Size is the length in bytes of the stored instance.
	Size int64
	// Instance is the whole instance; nil in the list Revisions returns.
	Instance *cim.Instance
}

// CheckRevision checks what AddRevision stores. Outcomes: nil; errs.Invalid
// naming what is wrong.
func CheckRevision(rev *Revision) error {
	switch {
	case rev.Instance == nil:
		return errs.E(errs.Invalid, "a revision needs the instance")
	case !HasHistory(rev.Instance.Class):
		return errs.E(errs.Invalid, "class %s keeps no history", rev.Instance.Class.Name)
	case rev.Op.EventClass() == "":
		return errs.E(errs.Invalid, "revision operation %q is not one of create, update, method, delete", rev.Op)
	case rev.RestoredFrom < 0:
		return errs.E(errs.Invalid, "RestoredFrom %d is negative", rev.RestoredFrom)
	}
	for _, s := range []string{rev.Method, rev.User, rev.Server, rev.Comment} {
		if err := cim.CheckText(s); err != nil {
			return errs.E(errs.Invalid, "revision: %w", err)
		}
	}
	return CheckKey(rev.Instance.Class, rev.Instance.Key())
}

// EncodeRevision returns the stored form of a revision's instance: every
// value it holds, lossless (EncodeJSON).
func EncodeRevision(in *cim.Instance) (string, error) {
	return encodeJSON(cim.Type{Kind: cim.Object, Class: in.Class.Name}, in, cim.MarshalValueString)
}

// DecodeRevision reads the stored form back.
func DecodeRevision(reg *cim.Registry, c *cim.Class, data []byte) (*cim.Instance, error) {
	v, err := DecodeJSON(reg, cim.Type{Kind: cim.Object, Class: c.Name}, data, c.Name+" revision")
	if err != nil {
		return nil, err
	}
	in, ok := v.(*cim.Instance)
	if !ok || in == nil {
		return nil, errs.E(errs.Internal, "a stored %s revision is not an instance", c.Name)
	}
	return in, nil
}

// RevisionsLimit checks the paging arguments of Revisions and returns
// the limit to apply.
func RevisionsLimit(after int64, limit int) (int, error) {
	switch {
	case after < 0:
		return 0, errs.Target(errs.Invalid, "after", "revisions after %d: the revision cannot be negative", after)
	case limit < 0:
		return 0, errs.Target(errs.Invalid, "limit", "revisions: limit %d is negative", limit)
	case limit == 0 || limit > MaxRevisionsPage:
		return MaxRevisionsPage, nil
	}
	return limit, nil
}

// RevisionNotFound is the error of a revision that is not kept.
func RevisionNotFound(c *cim.Class, key string, rev int64) error {
	return errs.Target(errs.NotFound, fmt.Sprint(rev), "%s %q has no revision %d", c.Name, key, rev)
}

// RevisionPosition is the place of a revision in ScanRevisions' order.
type RevisionPosition struct {
	Key string
	Rev int64
}

// CheckRestoredRevision checks a revision RestoreRevisions is given.
func CheckRestoredRevision(rev *Revision) error {
	if rev == nil {
		return errs.E(errs.Invalid, "no revision to restore")
	}
	if rev.Rev < 1 {
		return errs.Target(errs.Invalid, "Rev", "revision number %d is not above 0", rev.Rev)
	}
	return CheckRevision(rev)
}
