package distribution

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/nal"
	"github.com/tsprov/tsprov/internal/store"
)

// Agent is a DP agent announcing itself.
type Agent struct {
	Host    string // the server name the NAL path holds
	Site    string // the site code
	URL     string // where clients and the site reach it: http://host:port
	Version string // the agent's build
}

// DP is a registered distribution point.
type DP struct {
	NALPath  string
	Host     string
	Site     string
	URL      string
	LastSeen cim.DateTimeValue
}

// Register records the agent as a distribution point of its site (or
// renews its record: its URL and LastSeen) with its SMS_SystemResourceList
// and SMS_DPStatusInfo rows. Outcomes: the DP; errs.Invalid for a host or
// site code a NAL path cannot hold or a URL that is not http(s)://host:port.
func (s *Service) Register(ctx context.Context, tx store.Tx, a Agent) (DP, error) {
	path, err := nal.ForServer(a.Host, a.Site)
	if err != nil {
		return DP{}, err
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return DP{}, errs.Target(errs.Invalid, "url", "agent URL %q must be http(s)://host:port", a.URL)
	}
	site := strings.ToUpper(a.Site)
	now := s.now()

	// An agent that registered before keeps its row and the NAL path it
	// was given (the host may have been written in another case).
	info := newInstance(s.info)
	info.Set("NALPath", path)
	if cur, err := get(ctx, tx, s.info, info.Key()); err != nil {
		return DP{}, err
	} else if cur != nil {
		info = cur
		path = cur.String("NALPath")
	}
	info.Set("ServerName", a.Host)
	info.Set("SiteCode", site)
	info.Set("URL", strings.TrimSuffix(a.URL, "/"))
	info.Set("LastSeen", dateTime(now))
	if u.Scheme == "https" {
		info.Set("Communication", int64(1))
	}
	if err := put(ctx, tx, info); err != nil {
		return DP{}, err
	}

	res := newInstance(s.resource)
	res.Set("NALPath", path)
	res.Set("ResourceType", ResourceType)
	res.Set("RoleName", RoleName)
	res.Set("SiteCode", site)
	res.Set("ServerName", a.Host)
	res.Set("ServerRemoteName", a.Host)
	if u.Scheme == "https" {
		res.Set("SslState", int64(1))
	}
	if err := put(ctx, tx, res); err != nil {
		return DP{}, err
	}

	st := newInstance(s.dpInfo)
	st.Set("NALPath", path)
	if cur, err := get(ctx, tx, s.dpInfo, st.Key()); err != nil {
		return DP{}, err
	} else if cur != nil {
		st = cur
	}
	st.Set("Name", a.Host)
	st.Set("Version", a.Version)
	st.Set("LastStatusTime", dateTime(now))
	if err := put(ctx, tx, st); err != nil {
		return DP{}, err
	}
	return dpOf(info), nil
}

func dpOf(in *cim.Instance) DP {
	d, _ := in.Values["LastSeen"].(cim.DateTimeValue)
	return DP{NALPath: in.String("NALPath"), Host: in.String("ServerName"), Site: in.String("SiteCode"), URL: in.String("URL"), LastSeen: d}
}

// Lookup returns the registered DP a NAL path names (any of its forms:
// with or without Display, any case). Outcomes: the DP; errs.Invalid for a
// NAL path that does not parse; errs.NotFound for one no DP has.
func (s *Service) Lookup(ctx context.Context, tx store.ReadTx, nalPath string) (DP, error) {
	p, err := nal.Parse(nalPath)
	if err != nil {
		return DP{}, err
	}
	in := newInstance(s.info)
	in.Set("NALPath", p.Server())
	cur, err := get(ctx, tx, s.info, in.Key())
	if err != nil {
		return DP{}, err
	}
	if cur == nil || !strings.EqualFold(cur.String("SiteCode"), p.SiteCode) {
		return DP{}, errs.Target(errs.NotFound, "NALPath", "no distribution point %s is registered (see SMS_DistributionPointInfo; a DP registers when tsprov dp serve starts)", nalPath)
	}
	return dpOf(cur), nil
}

// DPs lists the registered distribution points.
func (s *Service) DPs(ctx context.Context, tx store.ReadTx) ([]DP, error) {
	recs, err := tx.List(ctx, s.info, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]DP, 0, len(recs))
	for _, r := range recs {
		out = append(out, dpOf(r.Instance))
	}
	return out, nil
}

// Assignment is a package a DP must hold, in the content it must hold.
type Assignment struct {
	PackageID string `json:"packageId"`
	ContentID string `json:"contentId"`
}

// Assignments lists what the DP at nalPath must hold now: each package
// assigned to it, in the content its job in progress names or, with no
// job under way, the version it holds. A package assigned but not yet
// dispatched is left out, as is one being removed (the agent removes
// what it holds and is not listed). Outcomes: the list (possibly empty);
// errs.NotFound for a DP that is not registered; errs.Invalid for a NAL
// path that does not parse.
func (s *Service) Assignments(ctx context.Context, tx store.ReadTx, nalPath string) ([]Assignment, error) {
	dp, err := s.Lookup(ctx, tx, nalPath)
	if err != nil {
		return nil, err
	}
	rows, err := where(ctx, tx, s.assign, "ServerNALPath eq "+odataString(dp.NALPath))
	if err != nil {
		return nil, err
	}
	out := []Assignment{}
	for _, r := range rows {
		id := r.Instance.String("PackageID")
		j := newInstance(s.job)
		j.Set("PackageID", id)
		j.Set("NALPath", dp.NALPath)
		job, err := get(ctx, tx, s.job, j.Key())
		if err != nil {
			return nil, err
		}
		if job != nil && job.Int("Action") == ActionInstall && job.String("ContentID") != "" && job.Int("State") == jobInProgress {
			out = append(out, Assignment{PackageID: id, ContentID: job.String("ContentID")})
			continue
		}
		sum := newInstance(s.summary)
		sum.Set("PackageID", id)
		sum.Set("ServerNALPath", dp.NALPath)
		sum.Set("SiteCode", dp.Site)
		cur, err := get(ctx, tx, s.summary, sum.Key())
		if err != nil {
			return nil, err
		}
		if cur != nil && cur.Int("SourceVersion") > 0 {
			out = append(out, Assignment{PackageID: id, ContentID: fmt.Sprintf("%s.%d", id, cur.Int("SourceVersion"))})
		}
	}
	return out, nil
}
