package adminservice

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/errs"
	"github.com/tsprov/tsprov/internal/media"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/tsprov/tsprov/internal/query"
)

// MediaPath answers the content of stand-alone media for a task sequence
// as a zip (docs/policies.md, "Stand-alone media content").
const MediaPath = "/tsprov/v1/media"

// mediaHTTP fetches content from distribution points: no limit on a
// whole download (content can be large), a minute for a DP to answer.
var mediaHTTP = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: time.Minute}}

// createMedia serves POST /tsprov/v1/media {"PackageID": "PS100012",
// "AdvertisementID": "PS1F0012"}: the layout `tsprov media create` writes,
// streamed as application/zip, each package's files fetched from a
// distribution point that holds them installed and checked against their
// SHA-256. Everything that can be refused (rights, arguments, a package
// on no DP) is refused before the first byte; a file that fails its hash
// while streaming aborts the answer, so that half a media never passes
// for a whole one.
func (h *Handler) createMedia(w http.ResponseWriter, r *http.Request) {
	raw, err := h.readJSON(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req struct {
		PackageID       string `json:"PackageID"`
		AdvertisementID string `json:"AdvertisementID"`
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &req); err != nil {
			h.writeError(w, r, errs.E(errs.Invalid, `the body of a media request is {"PackageID": "…", "AdvertisementID": "…"}: %w`, err))
			return
		}
	}
	if req.PackageID == "" {
		h.writeError(w, r, errs.Target(errs.Invalid, "PackageID", "PackageID is required: the task sequence package the media run"))
		return
	}
	plan, err := media.NewPlan(r.Context(), providerMedia{h.prov}, req.PackageID, req.AdvertisementID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": plan.TaskSequence + "-media.zip"}))
	sw := &statusWriter{w: w, status: http.StatusOK}
	z := media.NewZip(sw, time.Now())
	_, err = media.Write(r.Context(), mediaHTTP, plan, z, nil)
	if err == nil {
		err = z.Close()
	}
	if err != nil {
		if !sw.started {
			h.writeError(w, r, errs.E(errs.Internal, "write the media of %s: %w", plan.TaskSequence, err))
			return
		}
		h.log.Error("media of a task sequence stopped half way", "package", plan.TaskSequence, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// providerMedia is a media.Source over the provider, with the caller's
// rights: the policy methods, the content library and the distribution
// state.
type providerMedia struct{ p *provider.Provider }

func (s providerMedia) policies(ctx context.Context, method string, in map[string]any) (media.Policies, error) {
	res, err := s.p.Invoke(ctx, "SMS_TaskSequencePackage", "", method, in)
	if err != nil {
		return media.Policies{}, err
	}
	list := func(name string) []string {
		v, _ := res.Out[name].([]any)
		out := make([]string, len(v))
		for i, e := range v {
			out[i], _ = e.(string)
		}
		return out
	}
	return media.Policies{PolicyXmls: list("PolicyXmls"), PolicyAssignmentXmls: list("PolicyAssignmentXmls")}, nil
}

func (s providerMedia) TaskSequencePolicies(ctx context.Context, packageID, advertisementID string) (media.Policies, error) {
	return s.policies(ctx, "GetTsPoliciesSaMedia", map[string]any{"PackageID": packageID, "AdvertisementID": advertisementID})
}

func (s providerMedia) ClientPolicies(ctx context.Context) (media.Policies, error) {
	return s.policies(ctx, "GetClientConfigPolicies", map[string]any{})
}

func (s providerMedia) Content(ctx context.Context, pkg string) (media.Content, error) {
	cur, err := s.p.CurrentContent(ctx, pkg)
	if err != nil {
		return media.Content{}, err
	}
	sums, err := s.list(ctx, "SMS_PackageStatusDistPointsSummarizer", fmt.Sprintf("PackageID eq '%s' and State eq 0 and SourceVersion eq %d", pkg, cur.SourceVersion))
	if err != nil {
		return media.Content{}, err
	}
	for _, sum := range sums {
		nal := sum.Instance.String("ServerNALPath")
		dps, err := s.list(ctx, "SMS_DistributionPointInfo", "NALPath eq '"+strings.ReplaceAll(nal, "'", "''")+"'")
		if err != nil {
			return media.Content{}, err
		}
		if len(dps) != 1 || dps[0].Instance.String("URL") == "" {
			continue
		}
		c, err := s.p.Content(ctx, cur.ContentID)
		if err != nil {
			return media.Content{}, err
		}
		out := media.Content{PackageID: pkg, ContentID: c.ContentID, Hash: c.Hash, DP: dps[0].Instance.String("URL")}
		for _, f := range c.Manifest.Files {
			out.Files = append(out.Files, media.File{Path: f.Path, Size: f.Size, SHA256: f.SHA256})
		}
		return out, nil
	}
	return media.Content{}, media.NotInstalled(pkg, cur.SourceVersion)
}

func (s providerMedia) list(ctx context.Context, class, filter string) ([]*provider.Object, error) {
	f, err := query.ParseFilter(filter)
	if err != nil {
		return nil, errs.E(errs.Internal, "filter %q: %w", filter, err)
	}
	res, err := s.p.List(ctx, class, provider.ListOptions{Filter: f})
	if err != nil {
		return nil, err
	}
	return res.Objects, nil
}
