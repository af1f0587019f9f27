package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/mattn/go-isatty"
	"github.com/tsprov/tsprov/internal/client"
	"github.com/tsprov/tsprov/internal/cmexport"
	"github.com/tsprov/tsprov/internal/content"
	"github.com/tsprov/tsprov/internal/provider"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

const (
	exportUsage = "usage: tsprov export PACKAGEID… -o FILE.zip [--no-dependence] [--with-content] [--comment TEXT]"
	importUsage = "usage: tsprov import FILE.zip [--map FILE] [--dry-run] [--partial] [--action [CLASS=]ACTION]… [--content-path DIR] [--output table|json]"
)

// runExport writes the Export-CMTaskSequence zip of task sequence
// packages, as the console's Export Task Sequence wizard does.
func runExport(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("export")
	out := fs.String("o", "", "the zip file to write")
	noDeps := fs.Bool("no-dependence", false, "leave out the packages, programs, boot images and child task sequences the sequences refer to")
	withContent := fs.Bool("with-content", false, "export the packages' content too, into FILE_files/ beside the zip (as the console does)")
	comment := fs.String("comment", "", "administrator comment, shown at import")
	ids, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(ids) == 0 || *out == "" {
		return usageError{exportUsage}
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".tsprov-export-*.zip")
	if err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	defer os.Remove(tmp.Name())
	req := map[string]any{"PackageIDs": ids, "WithDependence": !*noDeps, "WithContent": *withContent, "Comment": *comment}
	w, done := transferBar(tmp, "export", -1)
	n, err := cf.client().Export(context.Background(), req, w)
	done()
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "exported %s to %s (%d bytes)\n", strings.Join(ids, ", "), *out, n)
	if *withContent {
		return downloadContents(cf.client(), *out, stdout)
	}
	return nil
}

// contentFolder is where the console puts the content of an export:
// <zip name without .zip>_files beside it.
func contentFolder(zipFile string) string {
	return strings.TrimSuffix(zipFile, filepath.Ext(zipFile)) + "_files"
}

// downloadContents fetches the content the export's manifest lists into
// <zip>_files/<RelativePath>/, checking each file's SHA-256 and each
// content's hash, with a progress bar on a terminal.
func downloadContents(cl *client.Client, zipFile string, stdout io.Writer) error {
	data, err := os.ReadFile(zipFile)
	if err != nil {
		return err
	}
	a, err := cmexport.Read(bytes.NewReader(data), int64(len(data)), cmexport.DefaultLimits)
	if err != nil {
		return fmt.Errorf("%s: %w", zipFile, err)
	}
	if len(a.Contents) == 0 {
		fmt.Fprintln(stdout, "no package of the export has content")
		return nil
	}
	ctx := context.Background()
	root := contentFolder(zipFile)
	files, total, err := contentFiles(ctx, cl, a, root)
	if err != nil {
		return err
	}
	bar, finish := contentBar(total)
	done, err := fetchFiles(ctx, cl, files, bar)
	finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "content of %d package(s) in %s (%d files, %d bytes)\n", len(a.Contents), root, len(files), done)
	return nil
}

// contentFile is a file of an exported content and the folder it goes to.
type contentFile struct {
	dir  string
	file content.File
}

// contentFiles lists the files of every content the export lists, each
// with its folder below root (made here, with the content's empty
// folders), and their total size. A content that changed since the export
// is an error.
func contentFiles(ctx context.Context, cl *client.Client, a *cmexport.Archive, root string) ([]contentFile, int64, error) {
	var files []contentFile
	var total int64
	for _, c := range a.Contents {
		var pkg string
		for _, o := range a.Objects {
			if strings.EqualFold(o.ContentID, c.UniqueID) {
				pkg = o.PackageID
			}
		}
		if pkg == "" {
			return nil, 0, fmt.Errorf("the manifest lists content %s for no package", c.UniqueID)
		}
		var cur struct {
			Current string `json:"current"`
			Hash    string `json:"hash"`
		}
		if err := cl.Call(ctx, "GET", "/tsprov/v1/content/packages/"+url.PathEscape(pkg), nil, &cur); err != nil {
			return nil, 0, fmt.Errorf("content of %s: %w", pkg, err)
		}
		if !strings.EqualFold(cur.Hash, c.Hash) {
			return nil, 0, fmt.Errorf("the content of %s changed during the export: export again", pkg)
		}
		var m content.Manifest
		if err := cl.Call(ctx, "GET", "/tsprov/v1/content/"+url.PathEscape(cur.Current)+"/manifest", nil, &m); err != nil {
			return nil, 0, fmt.Errorf("content of %s: %w", pkg, err)
		}
		dir := filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(c.RelativePath, `\`, "/")))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, 0, err
		}
		for _, f := range m.Folders {
			sub, err := inside(dir, f)
			if err != nil {
				return nil, 0, err
			}
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return nil, 0, err
			}
		}
		for _, f := range m.Files {
			files = append(files, contentFile{dir: dir, file: f})
			total += f.Size
		}
	}
	return files, total, nil
}

// fetchFiles downloads each file into its folder, counting the bytes on
// bar, and checks its SHA-256. It returns the bytes written.
func fetchFiles(ctx context.Context, cl *client.Client, files []contentFile, bar io.Writer) (int64, error) {
	var done int64
	for _, cf := range files {
		target, err := inside(cf.dir, cf.file.Path)
		if err != nil {
			return done, err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return done, err
		}
		f, err := os.Create(target)
		if err != nil {
			return done, err
		}
		h := sha256.New()
		n, err := cl.Download(ctx, "/tsprov/v1/content/blobs/"+cf.file.SHA256, io.MultiWriter(f, h, bar))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return done, fmt.Errorf("%s: %w", target, err)
		}
		if !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), cf.file.SHA256) {
			return done, fmt.Errorf("%s: its SHA-256 is not the one the manifest gives", target)
		}
		done += n
	}
	return done, nil
}

// inside joins a manifest's /-separated path to dir, refusing one that
// would leave it.
func inside(dir, p string) (string, error) {
	target := filepath.Join(dir, filepath.FromSlash(p))
	rel, err := filepath.Rel(dir, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(p) {
		return "", fmt.Errorf("content path %q leaves its folder", p)
	}
	return target, nil
}

// contentBar is a progress bar of content bytes on a terminal (a writer
// that counts them), and the function that ends it.
func contentBar(total int64) (io.Writer, func()) {
	if !onTerminal() {
		return io.Discard, func() {}
	}
	p := mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	bar := p.AddBar(total, mpb.PrependDecorators(decor.Name("content "), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.Percentage(), decor.AverageSpeed(decor.SizeB1024(0), " % .1f"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
	return barWriter{bar}, func() { bar.SetTotal(-1, true); p.Wait() }
}

type barWriter struct{ bar *mpb.Bar }

func (b barWriter) Write(p []byte) (int, error) { b.bar.IncrBy(len(p)); return len(p), nil }

// runImport imports an export zip; with --dry-run it prints the plan (how
// each reference maps to this site) and changes nothing.
func runImport(args []string, stdout io.Writer) error {
	fs, cf := connectionFlags("import")
	mapFile := fs.String("map", "", "map file: lines \"SOURCEID TARGETID\" (or a JSON object) naming the target package of a source package")
	dryRun := fs.Bool("dry-run", false, "print the plan and the outcome of each object; change nothing")
	partial := fs.Bool("partial", false, "import what can be, leaving out objects with problems (default: all or nothing)")
	output := fs.String("output", "table", "table or json")
	contentPath := fs.String("content-path", "", "a folder the server can read holding the content exported beside the zip (FILE_files): imported packages get their sources and content from it")
	var actions stringList
	fs.Var(&actions, "action", "ImportActionType for every object, or CLASS=ACTION for one class (repeatable): "+strings.Join(provider.ImportActionNames(), ", "))
	rest, err := parseArgs(fs, args, 1, importUsage)
	if err != nil {
		return err
	}
	if *output != "table" && *output != "json" {
		return usageError{"--output must be table or json"}
	}
	var mapData []byte
	if *mapFile != "" {
		if mapData, err = os.ReadFile(*mapFile); err != nil {
			return fmt.Errorf("read the map file: %w", err)
		}
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return fmt.Errorf("open %s: %w", rest[0], err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	q := url.Values{}
	if *dryRun {
		q.Set("dryRun", "true")
	}
	if *partial {
		q.Set("partial", "true")
	}
	for _, a := range actions {
		q.Add("action", a)
	}
	if *contentPath != "" {
		abs, err := filepath.Abs(*contentPath)
		if err != nil {
			return err
		}
		q.Set("contentPath", abs)
	}
	r, done := transferReader(f, "import", st.Size())
	var res provider.ImportResult
	err = cf.client().Import(context.Background(), r, mapData, q, &res)
	done()
	if err != nil {
		return err
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printImport(stdout, &res)
}

// printImport prints an import's outcome per object, the plan of its
// references and its problems.
func printImport(w io.Writer, res *provider.ImportResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tSOURCE ID\tNAME\tACTION\tOUTCOME\tTARGET ID")
	for _, o := range res.Objects {
		src := o.SourceID
		if o.ProgramName != "" {
			src += "/" + o.ProgramName
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.Class, src, o.Name, o.Action, o.Outcome, o.TargetID)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "SOURCE ID\tNAME\tTYPE\tVERSION\tTARGET ID\tRULE")
	for _, e := range res.Plan {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", e.SourceID, e.Name, e.Type, e.Version, e.TargetID, e.Rule)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range res.Problems {
		if p.Warning {
			fmt.Fprintln(w, p.String()) // "warning: …"
		} else {
			fmt.Fprintln(w, "problem: "+p.String())
		}
	}
	if res.DryRun {
		fmt.Fprintln(w, "dry run: nothing was changed")
	}
	return nil
}

// onTerminal reports whether standard error is a terminal (progress bars
// are drawn only there).
func onTerminal() bool {
	fd := os.Stderr.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

// transferBar wraps w with a progress bar of the bytes written (size -1:
// unknown) on a terminal; done ends the bar.
func transferBar(w io.Writer, name string, size int64) (io.Writer, func()) {
	if !onTerminal() {
		return w, func() {}
	}
	p := mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	bar := p.AddBar(max(size, 0), mpb.PrependDecorators(decor.Name(name+" "), decor.Current(decor.SizeB1024(0), "% .1f")),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), " % .1f")))
	pw, err := bar.ProxyWriter(w)
	if err != nil {
		p.Shutdown()
		return w, func() {}
	}
	return pw, func() { bar.SetTotal(-1, true); p.Wait() }
}

// transferReader wraps r with a progress bar of the bytes read on a
// terminal; done ends the bar.
func transferReader(r io.Reader, name string, size int64) (io.Reader, func()) {
	if !onTerminal() {
		return r, func() {}
	}
	p := mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	bar := p.AddBar(size, mpb.PrependDecorators(decor.Name(name+" "), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.Percentage(), decor.AverageSpeed(decor.SizeB1024(0), " % .1f")))
	pr, err := bar.ProxyReader(r)
	if err != nil {
		p.Shutdown()
		return r, func() {}
	}
	return pr, func() { bar.SetTotal(-1, true); p.Wait() }
}
