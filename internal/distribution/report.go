package distribution

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/store"
)

// What an agent reports about a package.
const (
	ReportProgress  = "progress"  // downloading ContentID
	ReportInstalled = "installed" // ContentID is held in full, every hash verified
	ReportFailed    = "failed"    // ContentID could not be installed (Error says why)
	ReportRemoved   = "removed"   // the package is gone from the DP
	// ReportValidating: the DP checks the files of ContentID it holds
	// (after a restart, or a file found damaged); Error, when set, names
	// the files found damaged, which it fetches again.
	ReportValidating = "validating"
)

// Report is a DP agent's news about one package.
type Report struct {
	NALPath   string
	PackageID string
	ContentID string // <PackageID>.<SourceVersion>
	Kind      string // ReportProgress, ReportInstalled, ReportFailed, ReportRemoved
	Progress
	Error string
}

// SourceVersion reads the version of a content id <PackageID>.<N>.
// Outcomes: the version; errs.Invalid for another form.
func SourceVersion(packageID, contentID string) (int64, error) {
	rest, ok := strings.CutPrefix(strings.ToUpper(contentID), strings.ToUpper(packageID)+".")
	n, err := strconv.ParseInt(rest, 10, 32)
	if !ok || err != nil || n < 1 {
		return 0, errs.Target(errs.Invalid, "contentId", "content id %q is not %s.<SourceVersion>", contentID, packageID)
	}
	return n, nil
}

// Report records an agent's news in the summary, the status message, the
// DP's counts and the job: installed completes the job (when it is about
// that content), failed schedules the next attempt after the backoff (or
// fails the job after MaxAttempts), progress renews the job's lease,
// removed forgets the package on that DP. A report about a package the DP
// no longer holds or a content it is not to install is recorded only in
// the status message. validating shows the package CONTENT_MONITORING
// on that DP until it reports again. Outcomes: nil; errs.NotFound for a DP that is not
// registered; errs.Invalid for an unknown kind or a bad content id;
// another error when the store fails.
func (s *Service) Report(ctx context.Context, tx store.Tx, r Report) error {
	dp, err := s.Lookup(ctx, tx, r.NALPath)
	if err != nil {
		return err
	}
	var ver int64
	if r.Kind != ReportRemoved {
		if ver, err = SourceVersion(r.PackageID, r.ContentID); err != nil {
			return err
		}
	}
	now := s.now()
	if err := s.seen(ctx, tx, dp, now); err != nil {
		return err
	}
	j := newInstance(s.job)
	j.Set("PackageID", r.PackageID)
	j.Set("NALPath", dp.NALPath)
	job, err := get(ctx, tx, s.job, j.Key())
	if err != nil {
		return err
	}
	sum := newInstance(s.summary)
	sum.Set("PackageID", r.PackageID)
	sum.Set("ServerNALPath", dp.NALPath)
	sum.Set("SiteCode", dp.Site)
	cur, err := get(ctx, tx, s.summary, sum.Key())
	if err != nil {
		return err
	}
	typeID := int64(0)
	row := newInstance(s.assign)
	row.Set("PackageID", r.PackageID)
	row.Set("ServerNALPath", dp.NALPath)
	row.Set("SiteCode", dp.Site)
	assigned, err := get(ctx, tx, s.assign, row.Key())
	if err != nil {
		return err
	}
	if assigned != nil {
		typeID = assigned.Int("ObjectTypeID")
	}
	// Is the report about what the job asks? A job dispatched for another
	// content (a newer version) or another action is not completed by it.
	current := job != nil && job.Int("State") == jobInProgress &&
		((r.Kind == ReportRemoved) == (job.Int("Action") == ActionRemove)) &&
		(r.Kind == ReportRemoved || strings.EqualFold(job.String("ContentID"), r.ContentID))

	switch r.Kind {
	case ReportProgress:
		if current {
			job.Set("LeaseUntil", dateTime(now.Add(s.opts.Lease)))
			if err := put(ctx, tx, job); err != nil {
				return err
			}
		}
		if cur != nil && assigned != nil {
			st := InstallPending
			if cur.Int("SourceVersion") > 0 {
				st = ContentUpdating
			}
			cur.Set("State", int64(st))
			cur.Set("SummaryDate", dateTime(now))
			if err := put(ctx, tx, cur); err != nil {
				return err
			}
		}
		return s.message(ctx, tx, r.PackageID, dp.NALPath, dp.Site, typeID, MessageInProgress, msgInProgress, "downloading "+r.ContentID, r.Progress)
	case ReportValidating:
		if current {
			job.Set("LeaseUntil", dateTime(now.Add(s.opts.Lease)))
			if err := put(ctx, tx, job); err != nil {
				return err
			}
		}
		if cur != nil && assigned != nil && cur.Int("SourceVersion") == ver {
			cur.Set("State", int64(ContentMonitoring))
			cur.Set("SummaryDate", dateTime(now))
			if err := put(ctx, tx, cur); err != nil {
				return err
			}
		}
		text := "validating " + r.ContentID
		if r.Error != "" {
			text += ": " + r.Error
		}
		if err := s.message(ctx, tx, r.PackageID, dp.NALPath, dp.Site, typeID, MessageInProgress, msgInProgress, text, r.Progress); err != nil {
			return err
		}
		return s.recount(ctx, tx, dp.NALPath)
	case ReportInstalled:
		if assigned == nil {
			return s.message(ctx, tx, r.PackageID, dp.NALPath, dp.Site, typeID, MessageSuccess, msgInstalled, "installed "+r.ContentID+" (not assigned to this DP)", r.Progress)
		}
		if cur == nil {
			cur = sum
		}
		if current || job == nil {
			cur.Set("State", int64(Installed))
		}
		cur.Set("SourceVersion", ver)
		cur.Set("LastCopied", dateTime(now))
		cur.Set("SummaryDate", dateTime(now))
		if err := put(ctx, tx, cur); err != nil {
			return err
		}
		if current {
			if err := drop(ctx, tx, s.job, job.Key()); err != nil {
				return err
			}
		}
		if err := s.message(ctx, tx, r.PackageID, dp.NALPath, dp.Site, typeID, MessageSuccess, msgInstalled, "installed "+r.ContentID, r.Progress); err != nil {
			return err
		}
		return s.recount(ctx, tx, dp.NALPath)
	case ReportFailed:
		if current {
			if err := s.retry(ctx, tx, job, r.Error, now); err != nil {
				return err
			}
		}
		if err := s.message(ctx, tx, r.PackageID, dp.NALPath, dp.Site, typeID, MessageError, msgFailed, r.ContentID+": "+r.Error, r.Progress); err != nil {
			return err
		}
		return s.recount(ctx, tx, dp.NALPath)
	case ReportRemoved:
		if assigned != nil { // assigned again meanwhile: keep it
			return nil
		}
		if current {
			if err := drop(ctx, tx, s.job, job.Key()); err != nil {
				return err
			}
		}
		if cur != nil {
			if err := drop(ctx, tx, s.summary, cur.Key()); err != nil {
				return err
			}
		}
		m := newInstance(s.dpStatus)
		m.Set("NalPath", dp.NALPath)
		m.Set("PackageID", r.PackageID)
		if err := drop(ctx, tx, s.dpStatus, m.Key()); err != nil {
			return err
		}
		return s.recount(ctx, tx, dp.NALPath)
	}
	return errs.Target(errs.Invalid, "kind", "report kind %q is none of progress, validating, installed, failed, removed", r.Kind)
}

// seen renews a DP's LastSeen.
func (s *Service) seen(ctx context.Context, tx store.Tx, dp DP, now time.Time) error {
	in := newInstance(s.info)
	in.Set("NALPath", dp.NALPath)
	cur, err := get(ctx, tx, s.info, in.Key())
	if err != nil || cur == nil {
		return err
	}
	cur.Set("LastSeen", dateTime(now))
	return put(ctx, tx, cur)
}

// retry ends the attempt of job in flight: the next one is due after the
// backoff, or, after MaxAttempts, the job fails (INSTALL_FAILED or
// REMOVAL_FAILED) until the package is refreshed or assigned again.
func (s *Service) retry(ctx context.Context, tx store.Tx, job *cim.Instance, why string, now time.Time) error {
	attempt := job.Int("Attempt")
	job.Set("Driver", nil)
	job.Set("LeaseUntil", nil)
	job.Set("LastError", why)
	remove := job.Int("Action") == ActionRemove
	state := InstallRetrying
	if remove {
		state = RemovalRetrying
	}
	if attempt >= int64(s.opts.MaxAttempts) {
		job.Set("State", int64(jobFailed))
		state = InstallFailed
		if remove {
			state = RemovalFailed
		}
	} else {
		job.Set("State", int64(jobPending))
		job.Set("NextAttempt", dateTime(now.Add(s.Backoff(int(attempt)))))
	}
	if err := put(ctx, tx, job); err != nil {
		return err
	}
	sum := newInstance(s.summary)
	sum.Set("PackageID", job.String("PackageID"))
	sum.Set("ServerNALPath", job.String("NALPath"))
	sum.Set("SiteCode", job.String("SiteCode"))
	cur, err := get(ctx, tx, s.summary, sum.Key())
	if err != nil || cur == nil {
		return err
	}
	cur.Set("State", int64(state))
	cur.Set("SummaryDate", dateTime(now))
	if err := put(ctx, tx, cur); err != nil {
		return err
	}
	return s.recount(ctx, tx, job.String("NALPath"))
}

// Backoff is the wait after the attempt-th failed attempt: Backoff,
// doubled each further attempt, at most MaxBackoff.
func (s *Service) Backoff(attempt int) time.Duration {
	d := s.opts.Backoff
	for i := 1; i < attempt && d < s.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.opts.MaxBackoff)
}
