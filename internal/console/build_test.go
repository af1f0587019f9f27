package console

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// requireBuild makes TestBuildReproducesAssets mandatory (CI sets it):
// without it the test skips when npm or web/node_modules is missing.
const requireBuild = "TSPROV_REQUIRE_CONSOLE_BUILD"

const webDir = "../../web"

// TestBuildReproducesAssets builds the console from web/ as CI and a
// developer would (npm run build: odata2ts generates the typed client from
// web/metadata.xml, tsc checks every source strictly, esbuild bundles) into
// a temporary folder, and requires the very bytes committed under dist:
// the embedded console is the one its sources make.
func TestBuildReproducesAssets(t *testing.T) {
	skip := func(why string) {
		msg := why + "; install with: npm ci --prefix web"
		if os.Getenv(requireBuild) != "" {
			t.Fatalf("%s (mandatory: %s is set)", msg, requireBuild)
		}
		t.Skip(msg)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		skip("npm not found on PATH")
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "esbuild", "package.json")); err != nil {
		skip("web/node_modules is not installed")
	}
	web, err := filepath.Abs(webDir)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", "tsconfig.json", "build.mjs", "metadata.xml", "src"} {
		if err := os.CopyFS(filepath.Join(work, name), os.DirFS(filepath.Join(web, name))); err != nil {
			// a file, not a folder
			b, rerr := os.ReadFile(filepath.Join(web, name))
			if rerr != nil {
				t.Fatal(rerr)
			}
			if werr := os.WriteFile(filepath.Join(work, name), b, 0o644); werr != nil {
				t.Fatal(werr)
			}
		}
	}
	if err := os.Symlink(filepath.Join(web, "node_modules"), filepath.Join(work, "node_modules")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "dist")
	cmd := exec.Command(npm, "run", "--silent", "build")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "CONSOLE_OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm run build: %v\n%s", err, b)
	}
	built, committed := files(t, os.DirFS(out)), files(t, os.DirFS("dist"))
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range built {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		c, ok := committed[n]
		switch {
		case !ok:
			t.Errorf("the build writes %s, which is not committed under internal/console/dist", n)
		case !bytes.Equal(c, built[n]):
			t.Errorf("internal/console/dist/%s differs from what the sources build (%d and %d bytes)", n, len(c), len(built[n]))
		}
	}
	for n := range committed {
		if _, ok := built[n]; !ok {
			t.Errorf("internal/console/dist/%s is committed but the build does not write it", n)
		}
	}
	if t.Failed() {
		t.Log("rebuild the console and commit the result: (cd web && npm ci && npm run build)")
	}
}

func files(t *testing.T, fsys fs.FS) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		out[filepath.ToSlash(name)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHandlerRoutes: the handler answers only GET and HEAD of the client
// routes and the built assets, and hands everything else on.
func TestHandlerRoutes(t *testing.T) {
	a, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		ours bool
	}{
		{"/", true}, {"/packages", true}, {"/packages/", true}, {"/packages/PS100001/steps", true},
		{"/packagesX", false}, {"/AdminService/wmi/", false}, {"/odata/", false}, {"/tsprov/v1/me", false},
		{"/healthz", false}, {"/metrics", false}, {"/assets/", false}, {"/packages/../odata/", false}, {"//packages", false},
	} {
		if got := isClientRoute(c.path) && clean(c.path); got != c.ours {
			t.Errorf("%s: served as the console %v, want %v", c.path, got, c.ours)
		}
	}
	if !strings.Contains(string(a.index.body), AssetsPrefix) {
		t.Errorf("index.html names no asset under %s", AssetsPrefix)
	}
}
