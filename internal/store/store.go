// Package store defines the persistence contract of tsprov. Each backend
// (store/sqlite, store/postgres) implements it and passes the shared
// conformance suite in store/storetest.
//
// Layout rule (one place, used by every backend): a storable class gets a
// table with one typed column per property that is neither lazy nor large
// (arrays and embedded objects as JSON text); lazy and large properties are
// kept apart, one row per value, so that lists never read them (Layout).
//
// The rules every backend applies alike are written here once: which
// records, list options and event arguments are valid (check.go), how a
// class's properties are placed (layout.go), and how a value becomes a
// column or JSON value and back (values.go, codec.go). What the SQL
// backends share beyond that (reserved names, reading rows, the
// bookkeeping of transactions in flight) is in store/sqlstore.
package store

import (
	"context"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/query"
)

// Store persists instances of the registry's storable classes.
type Store interface {
	// Read runs fn in a read-only transaction that sees one consistent
	// snapshot. The error fn returns is returned as is.
	Read(ctx context.Context, fn func(ReadTx) error) error
	// Write runs fn in one read-write transaction. If fn returns an error,
	// nothing fn did is kept and that error is returned. When Write returns
	// nil, everything fn did is durable (it survives a crash of the process
	// or of the machine). A backend may run fn more than once, each
	// time in a new transaction (PostgreSQL does after a deadlock), so fn
	// must have no effect outside tx that a second run would repeat.
	Write(ctx context.Context, fn func(Tx) error) error
	// Subscribe returns a channel that receives the feed's position after
	// every commit that added events to it: commits of this process, and on
	// a database shared by several servers, of every server. A receiver that
	// lags gets the newest position only; it reads the events it has not
	// seen with ReadTx.Events. The channel is closed when ctx ends or the
	// store closes.
	Subscribe(ctx context.Context) <-chan int64
	// Close releases the store. Writes in flight finish first.
	Close() error
}

// Generations is implemented by a store that can tell cheaply whether
// anything has been committed to it since an earlier moment, so that a
// reader may keep what it derived from a read (an encoded answer) and
// serve it again while nothing changed.
type Generations interface {
	// Generation returns a mark of what is committed now: by this process,
	// and by every other process on the same file or database. When it
	// returned m at one call and returns m again at a later call, nothing
	// was committed between the two, so a read made after the first call
	// still holds at the second; a commit acknowledged before a call makes
	// that call's mark differ from every mark returned before the commit.
	// Marks are meaningful only within one Store value. Outcomes: the
	// mark; an error when the backend fails (the caller then reads).
	Generation(ctx context.Context) (string, error)
}

// ReadTx reads within a transaction.
type ReadTx interface {
	// Get returns the instance of class c with the given key (as
	// Instance.Key forms it). With lazy true the lazy and large values are
	// filled; with lazy false lazy properties are absent from the result and
	// non-lazy large ones are filled.
	// Outcomes: the record; an error of kind errs.NotFound when no such
	// instance exists; another error when the backend fails.
	Get(ctx context.Context, c *cim.Class, key string, lazy bool) (*Record, error)
	// List returns the instances of class c (not of its subclasses, which
	// are stored apart) in the order opts asks, lazy properties absent.
	// Outcomes: the records (possibly none); an error of kind errs.Invalid
	// when opts names an unknown or unsortable property; another error when
	// the backend fails.
	List(ctx context.Context, c *cim.Class, opts ListOptions) ([]*Record, error)
	// Count returns how many instances of class c are stored (matching
	// filter, when not nil; a filter checked with query.Check and
	// Searchable).
	Count(ctx context.Context, c *cim.Class, filter query.Expr) (int64, error)
	// Events returns the events of the change feed after position after,
	// in commit order, at most limit of them (at most MaxEventsPage; 0:
	// MaxEventsPage). Outcomes: the events (none when the feed has no
	// more); an error of kind errs.Invalid when after or limit is
	// negative; errs.Gone, naming the oldest position kept, when events
	// after after were trimmed (TrimEvents, CheckFeedKept); another error
	// when the backend fails.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
	// LastEvent returns the position of the change feed's last event, 0
	// when the feed holds none: where a reader that has seen everything
	// stands. Outcomes: the position; an error when the backend fails.
	LastEvent(ctx context.Context) (int64, error)
	// Counters returns the last value NextSequence gave for each counter
	// name (none for a counter never drawn).
	Counters(ctx context.Context) (map[string]int64, error)
	// Scan returns the instances of class c (not of its subclasses) whose
	// keys come after the key *after (nil: from the first), in key order
	// (keys compare without regard to case, as Get looks them up, in the
	// same order on every store), at most limit of them, every value filled
	// as Get with lazy true fills it. Reading a whole class page by page,
	// each page after the last key of the one before, costs the same for
	// every page, and a page costs a fixed number of queries, however many
	// instances it holds (tsprov migrate reads and compares stores so).
	// Outcomes: the records (none after the last); an error of kind
	// errs.Invalid when limit is less than 1; another error when the
	// backend fails.
	Scan(ctx context.Context, c *cim.Class, after *string, limit int) ([]*Record, error)
	// Revisions returns the revisions of the instance of class c with the
	// given key (history.go) numbered after after, oldest first, at most
	// limit of them (at most MaxRevisionsPage; 0: MaxRevisionsPage), each
	// without its Instance. They are kept after the instance is deleted.
	// Outcomes: the revisions (none for an instance without history); an
	// error of kind errs.Invalid when after or limit is negative; another
	// error when the backend fails.
	Revisions(ctx context.Context, c *cim.Class, key string, after int64, limit int) ([]Revision, error)
	// Revision returns one revision with its Instance. Outcomes: the
	// revision; an error of kind errs.NotFound when it is not kept;
	// another error when the backend fails.
	Revision(ctx context.Context, c *cim.Class, key string, rev int64) (*Revision, error)
	// ScanRevisions returns the revisions of every instance of class c,
	// deleted ones included, each with its Instance, ordered by key
	// (without regard to case, as Scan orders) and then by number, those
	// after *after (nil: from the first), at most limit of them (tsprov
	// migrate copies and compares histories so). Outcomes: the revisions
	// (none after the last); an error of kind errs.Invalid when limit is
	// less than 1; another error when the backend fails.
	ScanRevisions(ctx context.Context, c *cim.Class, after *RevisionPosition, limit int) ([]Revision, error)
}

// Tx reads and writes within one transaction.
type Tx interface {
	ReadTx
	// Insert stores a new instance. Every property of the class is written
	// (absent ones as null). Insert, Update and Delete each add an event to
	// the change feed (events.go) for a Recorded class. Outcomes: nil; errs.Conflict when an instance
	// with that key exists; errs.Invalid naming the property when
	// CheckInstance refuses the instance (among others, a string with a
	// NUL character or bytes that are not UTF-8, which no store keeps);
	// another error when the backend fails.
	Insert(ctx context.Context, rec *Record) error
	// Update replaces the stored instance with rec. Non-lazy, non-large
	// properties are all written (absent ones as null). A lazy or large
	// property absent from rec.Instance.Values keeps its stored value; one
	// present with nil is erased. rec.Version is set to the new version.
	// Outcomes: nil; errs.NotFound when no such instance exists;
	// errs.Invalid as for Insert; another error when the backend fails.
	Update(ctx context.Context, rec *Record) error
	// Delete removes the instance and its lazy values. Outcomes: nil;
	// errs.NotFound when no such instance exists; another error.
	Delete(ctx context.Context, c *cim.Class, key string) error
	// RecordMethod adds an Invoked event to the change feed for the
	// instance rec (its values as they are after the method ran), naming
	// method, when rec's class is Recorded. Outcomes: nil; errs.Invalid
	// when a value is not of its type; another error.
	RecordMethod(ctx context.Context, rec *Record, method string) error
	// TrimEvents removes the feed's events but the newest keep (keep < 1:
	// none removed) and returns how many it removed. Positions are never
	// reused: later events go on after the last. Outcomes: the count; an
	// error when the backend fails.
	TrimEvents(ctx context.Context, keep int64) (int64, error)
	// NextSequence returns the next value of the named counter: 1 the
	// first time, then one more each call, never the same value twice for
	// a name once the transaction that drew it has committed.
	NextSequence(ctx context.Context, name string) (int64, error)
	// AddRevision adds rev to the history of rev.Instance (history.go),
	// numbered one after the last revision the instance has had, and sets
	// rev.Class, rev.Key, rev.Rev, rev.Time and rev.Size. Outcomes: nil;
	// errs.Invalid when CheckRevision refuses rev or a value is not of its
	// type; another error when the backend fails.
	AddRevision(ctx context.Context, rev *Revision) error
	// TrimRevisions removes the revisions of an instance but the newest
	// keep (keep < 1: none removed) and returns how many it removed.
	// Numbers are not reused. Outcomes: the count; an error when the
	// backend fails.
	TrimRevisions(ctx context.Context, c *cim.Class, key string, keep int64) (int64, error)
	// PurgeRevisions removes every revision of an instance and returns how
	// many it removed; numbering starts again from 1. Outcomes: the count;
	// an error when the backend fails.
	PurgeRevisions(ctx context.Context, c *cim.Class, key string) (int64, error)

	// Restore, RestoreCounter and RestoreEvent copy what another store
	// holds, as it is there (tsprov migrate). Restore and RestoreEvent
	// take many at once, in a fixed number of statements however many they
	// are, so that copying a store costs little more than reading it.

	// Restore stores recs like Insert, each keeping its Version, and records
	// no event. Every record is checked and encoded, and every key looked
	// up, before anything is written: after errs.Invalid or errs.Conflict
	// none of recs is stored and the transaction goes on. Outcomes: nil;
	// those of Insert for the first record at fault; errs.Invalid when a
	// record's Version < 1; errs.Conflict also when two of recs have the
	// same key; another error when the backend fails.
	Restore(ctx context.Context, recs ...*Record) error
	// RestoreCounter makes the named counter's last value value, so that
	// NextSequence goes on from there. Outcomes: nil; errs.Invalid when
	// name is empty or value negative; another error.
	RestoreCounter(ctx context.Context, name string, value int64) error
	// RestoreEvent appends evs, in order, to the change feed with their
	// positions and times; events recorded later come after them. They are
	// checked before anything is written and appended all or none.
	// Outcomes: nil; errs.Invalid when an event's Seq < 1 or is not after
	// every position the feed holds and the events before it in evs, or
	// its key is not text every store keeps; another error.
	RestoreEvent(ctx context.Context, evs ...Event) error
	// RestoreRevisions adds revs to the histories of their instances as
	// they are: numbers, times, authors and comments kept. Each is checked
	// before anything is written. Outcomes: nil; errs.Invalid when
	// CheckRevision refuses one or its Rev < 1; errs.Conflict when the
	// instance already has a revision of that number; another error.
	RestoreRevisions(ctx context.Context, revs ...*Revision) error
	// ReplaceRevision stores rev.Instance as the instance of the kept
	// revision rev.Rev of its instance, leaving the rest of the revision
	// as it is, and sets rev.Size. It is for resealing secrets under a new
	// key, which changes how a revision is stored, not what it holds.
	// Outcomes: nil; errs.NotFound when no such revision is kept;
	// errs.Invalid as for AddRevision; another error.
	ReplaceRevision(ctx context.Context, rev *Revision) error
}

// Record is a stored instance.
type Record struct {
	Instance *cim.Instance
	// Version counts the writes to this instance: 1 after Insert, one more
	// after each Update. The store sets it.
	Version int64
}

// ListOptions shapes a List.
type ListOptions struct {
	// Filter keeps the instances it holds for (nil: all). It must have
	// passed query.Check with Searchable; the store compiles it to SQL.
	Filter  query.Expr
	OrderBy []Order // empty: by key
	// After, when not nil, starts the list right after the instance at
	// this place of the order (keyset paging): what comes before it and
	// the instance itself are left out without being read, so a page far
	// into a list costs what the first does. Offset counts from there.
	After  *Position
	Offset int
	Limit  int // 0: no limit
}

// Position is the place of an instance in a list's order: the values of
// its properties that OrderBy names, one each in that order (nil for
// null), and its key (Instance.Key), which ends every order.
type Position struct {
	Values []any
	Key    string
}

// Order is one sort key.
type Order struct {
	Property string
	Desc     bool
}

// Apart reports whether property p is stored apart from its class's row:
// lazy and large properties are.
func Apart(p *cim.Property) bool { return p.IsLazy() || p.IsLarge() }

// Columns returns the properties of c stored in its row, in class order.
func Columns(c *cim.Class) []*cim.Property {
	var cols []*cim.Property
	for _, p := range c.Properties {
		if !Apart(p) {
			cols = append(cols, p)
		}
	}
	return cols
}

// ApartProperties returns the properties of c stored apart, in class order.
func ApartProperties(c *cim.Class) []*cim.Property {
	var ps []*cim.Property
	for _, p := range c.Properties {
		if Apart(p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// Sortable reports whether a List may order by p: a scalar row column.
func Sortable(p *cim.Property) bool { return !Apart(p) && !p.Type.Array && p.Type.Kind != cim.Object }

// Searchable reports whether a filter may test p: the same scalar row
// columns.
func Searchable(p *cim.Property) bool { return Sortable(p) }
