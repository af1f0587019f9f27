package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tsprov/tsprov/internal/client"
)

// mediaIndex is the file at the root of a media folder that lists every
// file with its size and SHA-256 (tsprov media verify reads it).
const mediaIndex = "SMS/data/media.json"

type mediaFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type mediaManifest struct {
	TaskSequence    string      `json:"taskSequence"`
	AdvertisementID string      `json:"advertisementId"`
	Packages        []string    `json:"packages"`
	Files           []mediaFile `json:"files"`
}

// runMedia runs the stand-alone media commands: create and verify.
func runMedia(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"media takes a command: create or verify"}
	}
	switch args[0] {
	case "create":
		return mediaCreate(args[1:], stdout)
	case "verify":
		return mediaVerify(args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, "usage: tsprov media create --ts PACKAGEID --out DIR | tsprov media verify DIR")
		return nil
	}
	return usageError{fmt.Sprintf("unknown media command %q (create, verify)", args[0])}
}

// mediaCreate writes the content of stand-alone media for a task
// sequence into an empty folder: its policies (GetTsPoliciesSaMedia) and
// the site's client policies (GetClientConfigPolicies), and every
// referenced package's content fetched from a distribution point that
// holds it, each file checked against its SHA-256. The folder appears
// whole or not at all.
func mediaCreate(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("media create")
	ts := fs.String("ts", "", "PackageID of the task sequence")
	out := fs.String("out", "", "folder to write (must not exist, or be empty)")
	advert := fs.String("advertisement", "", "AdvertisementID the policies carry (default: <site>F<5 digits of the package>)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseNoArgs(fs, args, "media create takes --ts and --out"); err != nil {
		return err
	}
	if *ts == "" || *out == "" {
		return usageError{"media create needs --ts PACKAGEID and --out DIR"}
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: media create writes only into a new or empty folder", *out)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	id := strings.ToUpper(*ts)
	if *advert == "" && len(id) == 8 {
		*advert = id[:3] + "F" + id[4:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := cf.client()
	var pol, cfg struct{ PolicyXmls, PolicyAssignmentXmls []string }
	if err := c.Call(ctx, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetTsPoliciesSaMedia", map[string]any{"AdvertisementID": *advert, "PackageID": id}, &pol); err != nil {
		return err
	}
	if err := c.Call(ctx, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetClientConfigPolicies", map[string]any{}, &cfg); err != nil {
		return err
	}
	packages := referencedPackages(pol.PolicyXmls)

	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(*out)), ".media-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	m := mediaManifest{TaskSequence: id, AdvertisementID: *advert, Packages: packages}
	write := func(rel string, data []byte) error {
		p := filepath.Join(tmp, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		m.Files = append(m.Files, mediaFile{Path: rel, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
		return nil
	}
	for i := range pol.PolicyXmls {
		if err := write(fmt.Sprintf("SMS/data/policies/ts-%03d.policy.xml", i), []byte(pol.PolicyXmls[i])); err != nil {
			return err
		}
		if err := write(fmt.Sprintf("SMS/data/policies/ts-%03d.assignment.xml", i), []byte(pol.PolicyAssignmentXmls[i])); err != nil {
			return err
		}
	}
	for i := range cfg.PolicyXmls {
		if err := write(fmt.Sprintf("SMS/data/policies/client-%03d.policy.xml", i), []byte(cfg.PolicyXmls[i])); err != nil {
			return err
		}
		if err := write(fmt.Sprintf("SMS/data/policies/client-%03d.assignment.xml", i), []byte(cfg.PolicyAssignmentXmls[i])); err != nil {
			return err
		}
	}

	type source struct {
		pkg, dpURL string
		manifest   manifestFiles
	}
	var sources []source
	var total int64
	for _, pkg := range packages {
		// a package without content (no source) has no files to carry
		var cur struct{ Current string }
		var ce *client.Error
		if err := c.Call(ctx, "GET", "/tsprov/v1/content/packages/"+url.PathEscape(pkg), nil, &cur); errors.As(err, &ce) && ce.Status == http.StatusNotFound {
			continue
		} else if err != nil {
			return err
		}
		dpURL, contentID, err := installedOnDP(ctx, c, pkg)
		if err != nil {
			return err
		}
		var mf manifestFiles
		if err := c.Call(ctx, "GET", "/tsprov/v1/content/"+url.PathEscape(contentID)+"/manifest", nil, &mf); err != nil {
			return fmt.Errorf("manifest of %s: %w", contentID, err)
		}
		for _, f := range mf.Files {
			total += f.Size
		}
		sources = append(sources, source{pkg: pkg, dpURL: dpURL, manifest: mf})
	}
	var bar *mpb.Bar
	var bars *mpb.Progress
	if !*quiet {
		bars = mpb.NewWithContext(ctx, mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
		bar = bars.AddBar(total, mpb.PrependDecorators(decor.Name("content "), decor.CountersKibiByte("% .1f / % .1f")),
			mpb.AppendDecorators(decor.Percentage(), decor.AverageSpeed(decor.SizeB1024(0), " % .1f"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
	}
	finish := func() {
		if bars != nil {
			bar.Abort(false)
			bars.Wait()
		}
	}
	for _, s := range sources {
		for _, f := range s.manifest.Files {
			rel := "SMS/PKG/" + s.pkg + "/" + f.Path
			if err := fetchVerified(ctx, c.HTTP, s.dpURL+"/SMS_DP_SMSPKG$/"+s.manifest.ContentID+"/"+escapePath(f.Path), filepath.Join(tmp, filepath.FromSlash(rel)), f.SHA256, bar); err != nil {
				finish()
				return fmt.Errorf("%s of %s from %s: %w", f.Path, s.manifest.ContentID, s.dpURL, err)
			}
			m.Files = append(m.Files, mediaFile{Path: rel, Size: f.Size, SHA256: f.SHA256})
		}
	}
	finish()
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	index, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, filepath.FromSlash(mediaIndex)), append(index, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Remove(*out); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return err
	}
	done = true
	fmt.Fprintf(stdout, "media for %s in %s: %d policies, %d packages, %d files\n", id, *out, len(pol.PolicyXmls)+len(cfg.PolicyXmls), len(packages), len(m.Files))
	return nil
}

type manifestFiles struct {
	ContentID string `json:"contentId"`
	Files     []struct {
		Path   string `json:"path"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"files"`
}

var (
	policyClass   = regexp.MustCompile(`<instance class="([A-Za-z_]+)">`)
	policyPackage = regexp.MustCompile(`<property name="PKG_PackageID" type="8"><value><!\[CDATA\[([A-Za-z0-9]+)\]\]>`)
)

// referencedPackages lists the packages the software distribution
// policies of a task sequence name, once each, in their order.
func referencedPackages(policies []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range policies {
		c, id := policyClass.FindStringSubmatch(p), policyPackage.FindStringSubmatch(p)
		if c == nil || id == nil || c[1] != "CCM_SoftwareDistribution" || seen[id[1]] {
			continue
		}
		seen[id[1]] = true
		out = append(out, id[1])
	}
	return out
}

// installedOnDP finds a distribution point that holds the package
// installed: its URL and the content id it holds.
func installedOnDP(ctx context.Context, c *client.Client, pkg string) (string, string, error) {
	var sums struct {
		Value []struct {
			ServerNALPath string
			SourceVersion int64
		} `json:"value"`
	}
	q := url.QueryEscape("PackageID eq '" + pkg + "' and State eq 0")
	if err := c.Call(ctx, "GET", "/AdminService/wmi/SMS_PackageStatusDistPointsSummarizer?$filter="+q, nil, &sums); err != nil {
		return "", "", err
	}
	for _, s := range sums.Value {
		var dps struct {
			Value []struct{ URL string } `json:"value"`
		}
		q := url.QueryEscape("NALPath eq '" + strings.ReplaceAll(s.ServerNALPath, "'", "''") + "'")
		if err := c.Call(ctx, "GET", "/AdminService/wmi/SMS_DistributionPointInfo?$filter="+q, nil, &dps); err != nil {
			return "", "", err
		}
		if len(dps.Value) == 1 && dps.Value[0].URL != "" {
			return strings.TrimSuffix(dps.Value[0].URL, "/"), fmt.Sprintf("%s.%d", pkg, s.SourceVersion), nil
		}
	}
	return "", "", fmt.Errorf("package %s is installed on no distribution point: distribute it first (tsprov dp add)", pkg)
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i := range segs {
		segs[i] = url.PathEscape(segs[i])
	}
	return strings.Join(segs, "/")
}

// fetchVerified downloads u into path and checks its SHA-256.
func fetchVerified(ctx context.Context, hc *http.Client, u, path, want string, bar *mpb.Bar) error {
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
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	h := sha256.New()
	var body io.Reader = resp.Body
	if bar != nil {
		proxy, err := bar.ProxyReader(resp.Body)
		if err != nil {
			return err
		}
		defer proxy.Close()
		body = proxy
	}
	_, err = io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
		return fmt.Errorf("SHA-256 %s, want %s", got, want)
	}
	return nil
}

// mediaVerify checks every file media.json lists: present, its size, its
// SHA-256. It names every file that differs and fails when one does.
func mediaVerify(args []string, stdout io.Writer) error {
	fs, _ := connectionFlags("media verify")
	rest, err := parseArgs(fs, args, 1, "media verify takes the media folder")
	if err != nil {
		return err
	}
	dir := rest[0]
	raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(mediaIndex)))
	if err != nil {
		return fmt.Errorf("%s is no media folder of tsprov: %w", dir, err)
	}
	var m mediaManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%s: %w", mediaIndex, err)
	}
	var bad []string
	for _, f := range m.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		file, err := os.Open(p)
		if err != nil {
			bad = append(bad, f.Path+": missing")
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, file)
		file.Close()
		switch got := hex.EncodeToString(h.Sum(nil)); {
		case err != nil:
			bad = append(bad, f.Path+": "+err.Error())
		case n != f.Size:
			bad = append(bad, fmt.Sprintf("%s: %d bytes, want %d", f.Path, n, f.Size))
		case !strings.EqualFold(got, f.SHA256):
			bad = append(bad, fmt.Sprintf("%s: SHA-256 %s, want %s", f.Path, got, f.SHA256))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d files differ: %s", len(bad), len(m.Files), strings.Join(bad, "; "))
	}
	fmt.Fprintf(stdout, "%s: %d files verified (task sequence %s, %d packages)\n", dir, len(m.Files), m.TaskSequence, len(m.Packages))
	return nil
}
