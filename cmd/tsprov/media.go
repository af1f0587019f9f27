package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/tsprov/tsprov/internal/client"
	"github.com/tsprov/tsprov/internal/media"
)

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
// sequence into an empty folder (internal/media): its policies
// (GetTsPoliciesSaMedia) and the site's client policies
// (GetClientConfigPolicies), and every referenced package's content
// fetched from a distribution point that holds it, each file checked
// against its SHA-256. The folder appears whole or not at all.
func mediaCreate(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("media create")
	ts := fs.String("ts", "", "PackageID of the task sequence")
	out := fs.String("out", "", "folder to write (must not exist, or be empty)")
	advert := fs.String("advertisement", "", "AdvertisementID the policies carry (default: <site>F<last 4 digits of the package>)")
	quiet := fs.Bool("quiet", false, "no progress at all")
	every := fs.Duration("progress-every", 5*time.Second, "off a terminal, a progress line on stderr this often (0: none)")
	if err := parseNoArgs(fs, args, "media create takes --ts and --out"); err != nil {
		return err
	}
	if *ts == "" || *out == "" {
		return usageError{"media create needs --ts PACKAGEID and --out DIR"}
	}
	dir, err := media.NewDir(*out)
	if err != nil {
		return err
	}
	defer dir.Discard()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := cf.client()
	plan, err := media.NewPlan(ctx, restSource{c}, *ts, *advert)
	if err != nil {
		return err
	}
	var progress func(media.Progress)
	var meter *workMeter
	if !*quiet {
		meter = newWorkMeter(ctx, "media "+plan.TaskSequence, *every, os.Stderr)
		progress = func(p media.Progress) { meter.update(p.Files, p.TotalFiles, p.Bytes, p.TotalBytes) }
	}
	idx, err := media.Write(ctx, c.HTTP, plan, dir, progress)
	if meter != nil {
		meter.done(err)
	}
	if err != nil {
		return err
	}
	if err := dir.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "media for %s in %s: %d policies, %d packages, %d files\n", plan.TaskSequence, *out,
		len(plan.TS.PolicyXmls)+len(plan.Client.PolicyXmls), len(plan.Packages), len(idx.Files))
	return nil
}

// restSource is a media.Source over the REST surface: the two policy
// methods, the content library's current content and manifest, and the
// site's distribution state.
type restSource struct{ c *client.Client }

func (s restSource) TaskSequencePolicies(ctx context.Context, packageID, advertisementID string) (media.Policies, error) {
	var p media.Policies
	err := s.c.Call(ctx, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetTsPoliciesSaMedia", map[string]any{"AdvertisementID": advertisementID, "PackageID": packageID}, &p)
	return p, err
}

func (s restSource) ClientPolicies(ctx context.Context) (media.Policies, error) {
	var p media.Policies
	err := s.c.Call(ctx, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetClientConfigPolicies", map[string]any{}, &p)
	return p, err
}

func (s restSource) Content(ctx context.Context, pkg string) (media.Content, error) {
	var cur struct {
		Current       string `json:"current"`
		SourceVersion int64  `json:"sourceVersion"`
	}
	if err := s.c.Call(ctx, "GET", "/tsprov/v1/content/packages/"+url.PathEscape(pkg), nil, &cur); err != nil {
		return media.Content{}, fmt.Errorf("content of %s: %w", pkg, err)
	}
	dpURL, err := installedOnDP(ctx, s.c, pkg, cur.SourceVersion)
	if err != nil {
		return media.Content{}, err
	}
	var mf struct {
		Hash  string       `json:"hash"`
		Files []media.File `json:"files"`
	}
	if err := s.c.Call(ctx, "GET", "/tsprov/v1/content/"+url.PathEscape(cur.Current)+"/manifest", nil, &mf); err != nil {
		return media.Content{}, fmt.Errorf("manifest of %s: %w", cur.Current, err)
	}
	return media.Content{PackageID: pkg, ContentID: cur.Current, Hash: mf.Hash, DP: dpURL, Files: mf.Files}, nil
}

// installedOnDP finds a distribution point that holds the package
// installed at version: its URL.
func installedOnDP(ctx context.Context, c *client.Client, pkg string, version int64) (string, error) {
	var sums struct {
		Value []struct{ ServerNALPath string } `json:"value"`
	}
	q := url.QueryEscape(fmt.Sprintf("PackageID eq '%s' and State eq 0 and SourceVersion eq %d", pkg, version))
	if err := c.Call(ctx, "GET", "/AdminService/wmi/SMS_PackageStatusDistPointsSummarizer?$filter="+q, nil, &sums); err != nil {
		return "", err
	}
	for _, s := range sums.Value {
		var dps struct {
			Value []struct{ URL string } `json:"value"`
		}
		q := url.QueryEscape("NALPath eq '" + strings.ReplaceAll(s.ServerNALPath, "'", "''") + "'")
		if err := c.Call(ctx, "GET", "/AdminService/wmi/SMS_DistributionPointInfo?$filter="+q, nil, &dps); err != nil {
			return "", err
		}
		if len(dps.Value) == 1 && dps.Value[0].URL != "" {
			return strings.TrimSuffix(dps.Value[0].URL, "/"), nil
		}
	}
	return "", media.NotInstalled(pkg, version)
}

// mediaVerify checks every file media.json lists: present, its size, its
// SHA-256. It names every file that differs and fails when one does.
func mediaVerify(args []string, stdout io.Writer) error {
	fs, _ := connectionFlags("media verify")
	rest, err := parseArgs(fs, args, 1, "media verify takes the media folder")
	if err != nil {
		return err
	}
	idx, err := media.Verify(rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d files verified (task sequence %s, %d packages)\n", rest[0], len(idx.Files), idx.TaskSequence, len(idx.Packages))
	return nil
}
