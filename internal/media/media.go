// Package media writes and checks the content of stand-alone media
// (docs/policies.md, "Stand-alone media content"): the policies of a task
// sequence and of the site's clients, and every referenced package's
// files fetched from a distribution point and checked against the SHA-256
// of the content's manifest, in the layout below, with an index of every
// file. The command line writes a folder, the REST action a zip; both go
// through Write, so the layout has one definition.
//
//	SMS/data/policies/ts-NNN.policy.xml, ts-NNN.assignment.xml     GetTsPoliciesSaMedia, in order
//	SMS/data/policies/client-NNN.policy.xml, …assignment.xml       GetClientConfigPolicies
//	SMS/PKG/<PackageID>/<path>                                     each package's files
//	SMS/data/media.json                                            every file: path, size, SHA-256
package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// IndexPath is the index of a media folder: every file with its size and
// SHA-256 (Verify reads it).
const IndexPath = "SMS/data/media.json"

// File is a file of the media, or of a package's content.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Index is the content of IndexPath.
type Index struct {
	TaskSequence    string   `json:"taskSequence"`
	AdvertisementID string   `json:"advertisementId"`
	Packages        []string `json:"packages"`
	Files           []File   `json:"files"`
}

// Policies are the aligned answers of a policy method.
type Policies struct {
	PolicyXmls, PolicyAssignmentXmls []string
}

// Content is a package's content as a distribution point holds it.
type Content struct {
	PackageID string
	ContentID string // <PackageID>.<SourceVersion>
	Hash      string // the content hash (docs/content.md)
	DP        string // the distribution point's base URL
	Files     []File // the content's manifest
}

// url is where the DP serves a file of the content (dp.serve's
// /SMS_DP_SMSPKG$/<ContentID>/<path>).
func (c Content) url(path string) string {
	segs := strings.Split(path, "/")
	for i := range segs {
		segs[i] = url.PathEscape(segs[i])
	}
	return strings.TrimSuffix(c.DP, "/") + "/SMS_DP_SMSPKG$/" + url.PathEscape(c.ContentID) + "/" + strings.Join(segs, "/")
}

// Source answers what media need from a site.
type Source interface {
	// TaskSequencePolicies are GetTsPoliciesSaMedia's answer.
	TaskSequencePolicies(ctx context.Context, packageID, advertisementID string) (Policies, error)
	// ClientPolicies are GetClientConfigPolicies's answer.
	ClientPolicies(ctx context.Context) (Policies, error)
	// Content finds a distribution point that holds the package's
	// current content installed; NotInstalled names a package no DP
	// holds at that version. It is asked only for packages whose policy
	// names a content hash (a package without source has none).
	Content(ctx context.Context, packageID string) (Content, error)
}

// NotInstalled is the refusal of a package whose current content no
// distribution point holds installed.
func NotInstalled(packageID string, sourceVersion int64) error {
	return errs.Target(errs.Conflict, "PackageID",
		"package %s is installed at its current version (%d) on no distribution point: distribute it first (tsprov dp add), or wait until a DP has installed it (tsprov dp status %s)",
		packageID, sourceVersion, packageID)
}

// Plan is what a media holds, before any file is fetched.
type Plan struct {
	TaskSequence    string
	AdvertisementID string
	TS, Client      Policies
	Packages        []string  // every package the policies run, in their order
	Content         []Content // those of Packages that have content
}

// Size is the number of content bytes the plan fetches.
func (p *Plan) Size() int64 {
	var n int64
	for _, c := range p.Content {
		for _, f := range c.Files {
			n += f.Size
		}
	}
	return n
}

// DefaultAdvertisementID is the AdvertisementID media policies carry when
// the caller names none: the site code, F, and the last four digits of
// the package id (PS100012 → PS1F0012), an id the site's counter, which
// counts from 1, reaches only after 983,040 deployments.
func DefaultAdvertisementID(packageID string) string {
	if len(packageID) != 8 {
		return ""
	}
	return packageID[:3] + "F" + packageID[4:]
}

// NewPlan asks src for the policies of the task sequence packageID and
// where each referenced package's content is. Nothing is fetched yet.
func NewPlan(ctx context.Context, src Source, packageID, advertisementID string) (*Plan, error) {
	packageID = strings.ToUpper(packageID)
	if advertisementID == "" {
		advertisementID = DefaultAdvertisementID(packageID)
	}
	p := &Plan{TaskSequence: packageID, AdvertisementID: advertisementID}
	var err error
	if p.TS, err = src.TaskSequencePolicies(ctx, packageID, advertisementID); err != nil {
		return nil, err
	}
	if len(p.TS.PolicyXmls) != len(p.TS.PolicyAssignmentXmls) {
		return nil, errs.E(errs.Internal, "GetTsPoliciesSaMedia answered %d policies and %d assignments", len(p.TS.PolicyXmls), len(p.TS.PolicyAssignmentXmls))
	}
	if p.Client, err = src.ClientPolicies(ctx); err != nil {
		return nil, err
	}
	if len(p.Client.PolicyXmls) != len(p.Client.PolicyAssignmentXmls) {
		return nil, errs.E(errs.Internal, "GetClientConfigPolicies answered %d policies and %d assignments", len(p.Client.PolicyXmls), len(p.Client.PolicyAssignmentXmls))
	}
	for _, r := range referenced(p.TS.PolicyXmls) {
		p.Packages = append(p.Packages, r.id)
		if r.hash == "" {
			continue // no source, no files to carry
		}
		c, err := src.Content(ctx, r.id)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(c.Hash, r.hash) {
			return nil, errs.Target(errs.Conflict, "PackageID", "the content of package %s on the distribution point (%s, hash %s) is not the one its policy names (hash %s): refresh the distribution points", r.id, c.ContentID, c.Hash, r.hash)
		}
		p.Content = append(p.Content, c)
	}
	return p, nil
}

var (
	policyClass   = regexp.MustCompile(`<instance class="([A-Za-z_]+)">`)
	policyPackage = regexp.MustCompile(`<property name="PKG_PackageID" type="8"><value><!\[CDATA\[([A-Za-z0-9]+)\]\]>`)
	policyHash    = regexp.MustCompile(`<property name="PKG_SourceHash" type="8"><value><!\[CDATA\[([0-9A-Fa-f]*)\]\]>`)
)

type ref struct{ id, hash string }

// referenced lists the packages the software distribution policies of a
// task sequence name, once each, in their order, with the content hash
// each policy names.
func referenced(policies []string) []ref {
	var out []ref
	seen := map[string]bool{}
	for _, p := range policies {
		c, id := policyClass.FindStringSubmatch(p), policyPackage.FindStringSubmatch(p)
		if c == nil || id == nil || c[1] != "CCM_SoftwareDistribution" || seen[id[1]] {
			continue
		}
		seen[id[1]] = true
		r := ref{id: id[1]}
		if h := policyHash.FindStringSubmatch(p); h != nil {
			r.hash = h[1]
		}
		out = append(out, r)
	}
	return out
}

// Sink receives the files of a media, one after the other.
type Sink interface {
	Create(rel string) (io.WriteCloser, error)
}

// Progress is how far Write has come with the content files.
type Progress struct {
	Files, TotalFiles int
	Bytes, TotalBytes int64
}

// Write writes the plan into sink: the policies, then every content file
// fetched with hc from its distribution point and checked against its
// SHA-256 as it streams, then the index. progress, when not nil, is told
// how far the content has come as bytes arrive. A file that differs from
// its hash, or a DP that fails, stops the writing with an error naming
// the file; the caller discards what sink holds.
func Write(ctx context.Context, hc *http.Client, p *Plan, sink Sink, progress func(Progress)) (*Index, error) {
	idx := &Index{TaskSequence: p.TaskSequence, AdvertisementID: p.AdvertisementID, Packages: p.Packages}
	if idx.Packages == nil {
		idx.Packages = []string{}
	}
	put := func(rel, data string) error {
		w, err := sink.Create(rel)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, data); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(data))
		idx.Files = append(idx.Files, File{Path: rel, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
		return nil
	}
	for _, set := range []struct {
		prefix string
		pol    Policies
	}{{"ts", p.TS}, {"client", p.Client}} {
		for i := range set.pol.PolicyXmls {
			if err := put(fmt.Sprintf("SMS/data/policies/%s-%03d.policy.xml", set.prefix, i), set.pol.PolicyXmls[i]); err != nil {
				return nil, err
			}
			if err := put(fmt.Sprintf("SMS/data/policies/%s-%03d.assignment.xml", set.prefix, i), set.pol.PolicyAssignmentXmls[i]); err != nil {
				return nil, err
			}
		}
	}
	pr := Progress{TotalBytes: p.Size()}
	for _, c := range p.Content {
		pr.TotalFiles += len(c.Files)
	}
	tell := func(n int64) {
		pr.Bytes += n
		if progress != nil {
			progress(pr)
		}
	}
	tell(0)
	for _, c := range p.Content {
		for _, f := range c.Files {
			rel := "SMS/PKG/" + c.PackageID + "/" + f.Path
			if err := fetch(ctx, hc, c.url(f.Path), sink, rel, f, tell); err != nil {
				return nil, fmt.Errorf("%s of %s from %s: %w", f.Path, c.ContentID, c.DP, err)
			}
			idx.Files = append(idx.Files, File{Path: rel, Size: f.Size, SHA256: strings.ToLower(f.SHA256)})
			pr.Files++
			tell(0)
		}
	}
	sort.Slice(idx.Files, func(i, j int) bool { return idx.Files[i].Path < idx.Files[j].Path })
	data, _ := json.MarshalIndent(idx, "", "  ")
	w, err := sink.Create(IndexPath)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		w.Close()
		return nil, err
	}
	return idx, w.Close()
}

// fetch downloads u into rel of sink, checking its size and SHA-256.
func fetch(ctx context.Context, hc *http.Client, u string, sink Sink, rel string, f File, tell func(int64)) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the distribution point answered %s", resp.Status)
	}
	w, err := sink.Create(rel)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), counter{io.LimitReader(resp.Body, f.Size+1), tell})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	switch got := hex.EncodeToString(h.Sum(nil)); {
	case err != nil:
		return err
	case n != f.Size:
		return fmt.Errorf("%d bytes, want %d", n, f.Size)
	case !strings.EqualFold(got, f.SHA256):
		return fmt.Errorf("SHA-256 %s, want %s", got, f.SHA256)
	}
	return nil
}

// counter tells the bytes read from r.
type counter struct {
	r    io.Reader
	tell func(int64)
}

func (c counter) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.tell(int64(n))
	}
	return n, err
}
