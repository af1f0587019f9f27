package distribution

import (
	"context"
	"fmt"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/nal"
	"github.com/tsprov/tsprov/internal/store"
)

// Problem is one refused element of an AddDistributionPoints call.
type Problem struct {
	Index    int    // the position in the arrays
	Property string // SiteCode or NALPath
	Message  string
}

// ProblemsError refuses a call for the problems it lists (each becomes an
// SMS_ExtendedStatus detail).
type ProblemsError struct {
	Err      error
	Problems []Problem
}

func (e *ProblemsError) Error() string { return e.Err.Error() }
func (e *ProblemsError) Unwrap() error { return e.Err }

// AddDistributionPoints assigns package pkg (an instance of a package
// class) to the distribution points NALPath[i] of sites SiteCode[i]: an
// SMS_DistributionPoint row, an INSTALL_PENDING summary, a status message
// and a job for each DP that does not hold the package yet; a DP that
// does is left as it is. Every pair is checked before anything is
// written. Outcomes: how many DPs were added; a *ProblemsError of kind
// errs.Invalid naming each bad pair (arrays of different lengths or
// empty, a NAL path that does not parse, a site code that differs from
// the NAL path's SMS_SITE, a DP that is not registered, the same DP
// twice); another error when the store fails.
func (s *Service) AddDistributionPoints(ctx context.Context, tx store.Tx, pkg *cim.Instance, siteCodes, nalPaths []string) (int, error) {
	if len(siteCodes) == 0 || len(siteCodes) != len(nalPaths) {
		return 0, &ProblemsError{
			Err:      errs.Target(errs.Invalid, "NALPath", "SiteCode and NALPath must be parallel arrays of the same, non-zero length (got %d site codes and %d NAL paths)", len(siteCodes), len(nalPaths)),
			Problems: []Problem{{Index: -1, Property: "NALPath", Message: "arrays of different lengths"}},
		}
	}
	var problems []Problem
	dps := make([]DP, len(nalPaths))
	seen := map[string]int{}
	for i, raw := range nalPaths {
		p, err := nal.Parse(raw)
		if err != nil {
			problems = append(problems, Problem{i, "NALPath", errs.Message(err)})
			continue
		}
		if !strings.EqualFold(strings.TrimSpace(siteCodes[i]), p.SiteCode) {
			problems = append(problems, Problem{i, "SiteCode", fmt.Sprintf("SiteCode[%d] %q does not match the site %s of NALPath[%d]", i, siteCodes[i], p.SiteCode, i)})
			continue
		}
		dp, err := s.Lookup(ctx, tx, raw)
		if errs.Is(err, errs.NotFound) {
			problems = append(problems, Problem{i, "NALPath", fmt.Sprintf("NALPath[%d]: %s", i, errs.Message(err))})
			continue
		}
		if err != nil {
			return 0, err
		}
		k := strings.ToLower(dp.NALPath)
		if j, dup := seen[k]; dup {
			problems = append(problems, Problem{i, "NALPath", fmt.Sprintf("NALPath[%d] names the same distribution point as NALPath[%d]", i, j)})
			continue
		}
		seen[k] = i
		dps[i] = dp
	}
	if len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, pr := range problems {
			msgs[i] = pr.Message
		}
		return 0, &ProblemsError{
			Err:      errs.Target(errs.Invalid, problems[0].Property, "AddDistributionPoints refused %d of %d distribution point(s); nothing was added: %s", len(problems), len(nalPaths), strings.Join(msgs, "; ")),
			Problems: problems,
		}
	}
	added := 0
	for _, dp := range dps {
		ok, err := s.Attach(ctx, tx, pkg, dp)
		if err != nil {
			return 0, err
		}
		if ok {
			added++
		}
	}
	return added, nil
}

// Attach assigns pkg to dp unless it is already: its SMS_DistributionPoint
// row, summary, status message and install job. Outcomes: whether it was
// added; an error when the store fails.
func (s *Service) Attach(ctx context.Context, tx store.Tx, pkg *cim.Instance, dp DP) (bool, error) {
	id := pkg.String("PackageID")
	row := newInstance(s.assign)
	row.Set("PackageID", id)
	row.Set("ServerNALPath", dp.NALPath)
	row.Set("SiteCode", dp.Site)
	if cur, err := get(ctx, tx, s.assign, row.Key()); err != nil || cur != nil {
		return false, err
	}
	typeID, _ := pkg.Class.ObjectTypeID()
	now := dateTime(s.now())
	row.Set("ObjectTypeID", typeID)
	row.Set("PackageType", pkg.Int("PackageType"))
	row.Set("SecureObjectID", id)
	row.Set("SourceSite", pkg.String("SourceSite"))
	row.Set("LastRefreshTime", now)
	if err := tx.Insert(ctx, &store.Record{Instance: row}); err != nil {
		return false, err
	}
	return true, s.assigned(ctx, tx, row, pkg.Class.Name)
}

// Assigned records what follows from an SMS_DistributionPoint row written
// by another path (a create of the row itself): its summary, status and
// install job. Outcomes: nil; errs.Invalid when the row names a DP that is
// not registered or a site that differs from its NAL path's; another error.
func (s *Service) Assigned(ctx context.Context, tx store.Tx, row *cim.Instance, packageClass string) error {
	dp, err := s.Lookup(ctx, tx, row.String("ServerNALPath"))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.Target(errs.Invalid, "ServerNALPath", "%s", errs.Message(err))
		}
		return err
	}
	if !strings.EqualFold(dp.Site, row.String("SiteCode")) {
		return errs.Target(errs.Invalid, "SiteCode", "SiteCode %q does not match the site %s of ServerNALPath", row.String("SiteCode"), dp.Site)
	}
	return s.assigned(ctx, tx, row, packageClass)
}

func (s *Service) assigned(ctx context.Context, tx store.Tx, row *cim.Instance, packageClass string) error {
	id, path, site := row.String("PackageID"), row.String("ServerNALPath"), row.String("SiteCode")
	now := dateTime(s.now())
	sum := newInstance(s.summary)
	sum.Set("PackageID", id)
	sum.Set("ServerNALPath", path)
	sum.Set("SiteCode", site)
	if cur, err := get(ctx, tx, s.summary, sum.Key()); err != nil {
		return err
	} else if cur != nil {
		sum = cur // a removal still pending: the package comes back
	}
	sum.Set("PackageType", row.Int("PackageType"))
	sum.Set("State", int64(InstallPending))
	if sum.Int("SourceVersion") > 0 {
		sum.Set("State", int64(ContentUpdating))
	}
	sum.Set("SummaryDate", now)
	if err := put(ctx, tx, sum); err != nil {
		return err
	}
	if err := s.message(ctx, tx, id, path, site, row.Int("ObjectTypeID"), MessageInProgress, msgInProgress, "distribution queued", Progress{}); err != nil {
		return err
	}
	j := newInstance(s.job)
	j.Set("PackageID", id)
	j.Set("NALPath", path)
	if cur, err := get(ctx, tx, s.job, j.Key()); err != nil {
		return err
	} else if cur != nil {
		j = cur
	}
	j.Set("SiteCode", site)
	j.Set("PackageClass", packageClass)
	j.Set("Action", int64(ActionInstall))
	j.Set("State", int64(jobPending))
	j.Set("Attempt", int64(0))
	j.Set("ContentID", "")
	j.Set("NextAttempt", now)
	j.Set("Driver", nil)
	j.Set("LeaseUntil", nil)
	j.Set("LastError", nil)
	if err := put(ctx, tx, j); err != nil {
		return err
	}
	return s.recount(ctx, tx, path)
}

// Detached records that an SMS_DistributionPoint row was deleted: the
// package is to be removed from that DP (REMOVAL_PENDING and a removal
// job; the summary goes when the agent confirms). Outcomes: nil; an error
// when the store fails.
func (s *Service) Detached(ctx context.Context, tx store.Tx, row *cim.Instance) error {
	id, path, site := row.String("PackageID"), row.String("ServerNALPath"), row.String("SiteCode")
	now := dateTime(s.now())
	sum := newInstance(s.summary)
	sum.Set("PackageID", id)
	sum.Set("ServerNALPath", path)
	sum.Set("SiteCode", site)
	cur, err := get(ctx, tx, s.summary, sum.Key())
	if err != nil {
		return err
	}
	if cur != nil {
		cur.Set("State", int64(RemovalPending))
		cur.Set("SummaryDate", now)
		if err := put(ctx, tx, cur); err != nil {
			return err
		}
	}
	if err := s.message(ctx, tx, id, path, site, row.Int("ObjectTypeID"), MessageInProgress, msgInProgress, "removal queued", Progress{}); err != nil {
		return err
	}
	j := newInstance(s.job)
	j.Set("PackageID", id)
	j.Set("NALPath", path)
	j.Set("SiteCode", site)
	j.Set("Action", int64(ActionRemove))
	j.Set("State", int64(jobPending))
	j.Set("Attempt", int64(0))
	j.Set("ContentID", "")
	j.Set("NextAttempt", now)
	if err := put(ctx, tx, j); err != nil {
		return err
	}
	return s.recount(ctx, tx, path)
}

// Refresh queues the package again for the DPs that hold it (or, with
// nalPath not "", that one DP): a new source version or RefreshNow. A DP
// with a job under way gets it again from the start. Outcomes: nil; an
// error when the store fails.
func (s *Service) Refresh(ctx context.Context, tx store.Tx, packageID, packageClass, nalPath string) error {
	filter := "PackageID eq " + odataString(packageID)
	if nalPath != "" {
		filter += " and ServerNALPath eq " + odataString(nalPath)
	}
	rows, err := where(ctx, tx, s.assign, filter)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := s.assigned(ctx, tx, r.Instance, packageClass); err != nil {
			return err
		}
	}
	return nil
}

// recount sets the counts and overall state of a DP's SMS_DPStatusInfo
// from its summaries.
func (s *Service) recount(ctx context.Context, tx store.Tx, path string) error {
	st := newInstance(s.dpInfo)
	st.Set("NALPath", path)
	cur, err := get(ctx, tx, s.dpInfo, st.Key())
	if err != nil {
		return err
	}
	if cur == nil {
		cur = st
	}
	sums, err := where(ctx, tx, s.summary, "ServerNALPath eq "+odataString(path))
	if err != nil {
		return err
	}
	var installed, inProgress, failed int64
	for _, r := range sums {
		switch State(r.Instance.Int("State")) {
		case Installed:
			installed++
		case InstallFailed, RemovalFailed:
			failed++
		default:
			inProgress++
		}
	}
	state := int64(MessageSuccess)
	switch {
	case failed > 0:
		state = MessageError
	case inProgress > 0:
		state = MessageInProgress
	}
	cur.Set("NumberInstalled", installed)
	cur.Set("NumberInProgress", inProgress)
	cur.Set("NumberErrors", failed)
	cur.Set("NumberUnknown", int64(0))
	cur.Set("MessageState", state)
	cur.Set("MessageCount", cur.Int("MessageCount")+1)
	cur.Set("LastStatusTime", dateTime(s.now()))
	return put(ctx, tx, cur)
}

// Progress is how far a DP has got with a content.
type Progress struct {
	BytesDone, BytesTotal, BytesPerSecond int64
}

// message writes the latest status message of a DP about a package.
func (s *Service) message(ctx context.Context, tx store.Tx, packageID, path, site string, typeID int64, state, id int64, text string, pr Progress) error {
	m := newInstance(s.dpStatus)
	m.Set("NalPath", path)
	m.Set("PackageID", packageID)
	cur, err := get(ctx, tx, s.dpStatus, m.Key())
	if err != nil {
		return err
	}
	if cur != nil {
		m = cur
	}
	host := ""
	if p, err := nal.Parse(path); err == nil {
		host = p.Host
	}
	sev := int64(severitySuccess)
	switch state {
	case MessageError:
		sev = severityError
	case MessageInProgress:
		if id == msgFailed {
			sev = severityWarning
		}
	}
	m.Set("Name", host)
	m.Set("ObjectID", packageID)
	m.Set("ObjectTypeID", typeID)
	m.Set("SiteCode", site)
	m.Set("MessageState", state)
	m.Set("MessageID", id)
	m.Set("MessageFullID", sev|id)
	m.Set("MessageSeverity", sev)
	m.Set("MessageCategory", int64(0))
	m.Set("InsString1", packageID)
	m.Set("InsString2", text)
	m.Set("LastStatusID", m.Int("LastStatusID")+1)
	m.Set("LastUpdateDate", dateTime(s.now()))
	m.Set("BytesDone", pr.BytesDone)
	m.Set("BytesTotal", pr.BytesTotal)
	m.Set("BytesPerSecond", pr.BytesPerSecond)
	return put(ctx, tx, m)
}
