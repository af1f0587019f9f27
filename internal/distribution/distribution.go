// Package distribution keeps the distribution points of a site and what
// each must hold: the DP registry (SMS_DistributionPointInfo,
// SMS_SystemResourceList), the packages assigned to each DP
// (SMS_DistributionPoint), the status classes
// (SMS_PackageStatusDistPointsSummarizer, SMS_DistributionDPStatus,
// SMS_DPStatusInfo) and the distribution jobs (TSP_DistributionJob), all in
// the store and written in the transactions of the changes they describe.
//
// A Manager drives the jobs: it claims a due job under a lease kept in the
// job's own row (read in a write transaction, which waits for any other
// writer of the row, so on a database shared by several servers exactly
// one server holds a job at a time), tells the DP agent to act, and
// retries with backoff when the agent cannot be reached or reports a
// failure. Agents pull content themselves and report back (Report).
package distribution

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/query"
	"github.com/tsprov/tsprov/internal/store"
)

// The classes of schema/sitesystems.mof.
const (
	InfoClass       = "SMS_DistributionPointInfo"
	ResourceClass   = "SMS_SystemResourceList"
	AssignmentClass = "SMS_DistributionPoint"
	SummaryClass    = "SMS_PackageStatusDistPointsSummarizer"
	DPStatusClass   = "SMS_DistributionDPStatus"
	StatusInfoClass = "SMS_DPStatusInfo"
	JobClass        = "TSP_DistributionJob"
	packageBase     = "SMS_PackageBaseclass"
)

// RoleName is the SMS_SystemResourceList role of a distribution point.
const RoleName = "SMS Distribution Point"

// ResourceType is the resource type of every DP tsprov knows.
const ResourceType = "Windows NT Server"

// State is SMS_PackageStatusDistPointsSummarizer.State.
type State int64

const (
	Installed         State = 0
	InstallPending    State = 1
	InstallRetrying   State = 2
	InstallFailed     State = 3
	RemovalPending    State = 4
	RemovalRetrying   State = 5
	RemovalFailed     State = 6
	ContentUpdating   State = 7
	ContentMonitoring State = 8
)

var stateNames = [...]string{"INSTALLED", "INSTALL_PENDING", "INSTALL_RETRYING", "INSTALL_FAILED",
	"REMOVAL_PENDING", "REMOVAL_RETRYING", "REMOVAL_FAILED", "CONTENT_UPDATING", "CONTENT_MONITORING"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int64(s))
}

// MessageState is SMS_DistributionDPStatus.MessageState and
// SMS_DPStatusInfo.MessageState.
const (
	MessageSuccess    = 1
	MessageInProgress = 2
	MessageError      = 3
)

// The severities of status messages.
const (
	severitySuccess = 0x40000000
	severityWarning = 0x80000000
	severityError   = 0xC0000000
)

// Status message ids ConfigMgr reports for these events (content.md §5.2).
const (
	msgInstalled  = 2330 // distributed successfully
	msgInProgress = 2324 // copying
	msgFailed     = 2323 // failed to copy
	msgRemoved    = 2332 // removed
)

// Job actions (DistributionJobs.Action).
const (
	ActionInstall = 1
	ActionRemove  = 3
)

// Job states (DistributionJobs.State).
const (
	jobPending    = 0
	jobInProgress = 3
	jobFailed     = 6
)

// Options tunes a Service.
type Options struct {
	// Backoff is the delay before the second attempt of a job, doubled
	// each further attempt up to MaxBackoff (0: 2s and 5 minutes).
	Backoff, MaxBackoff time.Duration
	// MaxAttempts is how many dispatches a job gets before it fails
	// (INSTALL_FAILED; 0: 10).
	MaxAttempts int
	// Lease is how long a dispatched job waits for news from its agent
	// before it is due again (0: 2 minutes); each report renews it.
	Lease time.Duration
	// Clock tells the time (nil: time.Now).
	Clock func() time.Time
}

// Service reads and writes distribution state in a store.
type Service struct {
	reg                                                    *cim.Registry
	info, resource, assign, summary, dpStatus, dpInfo, job *cim.Class
	opts                                                   Options
}

// New returns a Service for the classes of reg. Outcomes: the service; an
// error when the schema lacks a distribution class.
func New(reg *cim.Registry, opts Options) (*Service, error) {
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s := &Service{reg: reg, opts: opts}
	for _, x := range []struct {
		dst  **cim.Class
		name string
	}{{&s.info, InfoClass}, {&s.resource, ResourceClass}, {&s.assign, AssignmentClass}, {&s.summary, SummaryClass},
		{&s.dpStatus, DPStatusClass}, {&s.dpInfo, StatusInfoClass}, {&s.job, JobClass}} {
		c, ok := reg.Class(x.name)
		if !ok {
			return nil, fmt.Errorf("distribution: the schema lacks class %s", x.name)
		}
		*x.dst = c
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.opts.Clock().UTC().Truncate(time.Microsecond) }

func dateTime(t time.Time) cim.DateTimeValue {
	return cim.DateTimeValue{Time: t.UTC().Truncate(time.Microsecond)}
}

func timeOf(in *cim.Instance, name string) time.Time {
	d, _ := in.Values[name].(cim.DateTimeValue)
	return d.Time
}

// newInstance returns an instance of c with its declared defaults.
func newInstance(c *cim.Class) *cim.Instance {
	in := cim.NewInstance(c)
	for _, p := range c.Properties {
		if p.Default != nil {
			in.Values[p.Name] = cim.CloneValue(p.Default)
		}
	}
	return in
}

// put inserts rec or, when its key is taken, replaces the stored one.
func put(ctx context.Context, tx store.Tx, in *cim.Instance) error {
	rec := &store.Record{Instance: in}
	err := tx.Update(ctx, rec)
	if errs.Is(err, errs.NotFound) {
		err = tx.Insert(ctx, rec)
	}
	return err
}

// drop deletes the instance, if any.
func drop(ctx context.Context, tx store.Tx, c *cim.Class, key string) error {
	err := tx.Delete(ctx, c, key)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	return err
}

// get returns the stored instance, nil for none.
func get(ctx context.Context, tx store.ReadTx, c *cim.Class, key string) (*cim.Instance, error) {
	rec, err := tx.Get(ctx, c, key, false)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return rec.Instance, nil
}

func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// where lists the instances of c an OData filter built here selects.
func where(ctx context.Context, tx store.ReadTx, c *cim.Class, filter string) ([]*store.Record, error) {
	var f query.Expr
	if filter != "" {
		var err error
		if f, err = query.ParseFilter(filter); err != nil {
			return nil, errs.E(errs.Internal, "filter %q: %w", filter, err)
		}
		if err := query.Check(f, c, nil); err != nil {
			return nil, errs.E(errs.Internal, "filter %q: %w", filter, err)
		}
	}
	return tx.List(ctx, c, store.ListOptions{Filter: f})
}

// key joins the key values of a class as cim.Instance.Key forms them.
func key(values ...string) string { return cim.JoinKey(values) }
