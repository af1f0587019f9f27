package odata_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The Node.js tools the tests run: the OASIS CSDL parser (shared with
// AdminService's $metadata test) and odata2ts with tsc. scripts/test
// installs them when npm is present; without them the tests skip, unless
// the environment variable names them mandatory (as .ci/run does).
const (
	csdlCheckDir      = "../adminservice/testdata/csdlcheck"
	requireCSDLCheck  = "TSPROV_REQUIRE_CSDL_CHECK"
	clientDir         = "testdata/client"
	requireClientTest = "TSPROV_REQUIRE_ODATA_CLIENT"
	corpusObjectXML   = "../../testdata/ts-corpus/gwblok__garytown__OSD_CloudOSD_OSDCloudTaskSequence__SMS_TaskSequencePackage_MEM000F8_object.xml"
)

// nodeTool returns the node binary when the npm package marker (a file
// under dir/node_modules) is installed; otherwise the test skips, or fails
// when env is set.
func nodeTool(t *testing.T, dir, marker, env, install string) string {
	t.Helper()
	skip := func(why string) {
		msg := why + "; install with: npm ci --prefix " + filepath.Join("internal/odata", dir)
		if os.Getenv(env) != "" {
			t.Fatalf("%s (mandatory: %s is set)", msg, env)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node not found on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", marker)); err != nil {
		skip(install + " is not installed")
	}
	return node
}

// run runs a command in dir and fails the test with its output when it
// fails.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestGeneratedClient generates a TypeScript client with odata2ts from the
// running server's $metadata, type-checks it with tsc (strict), and runs a
// script that creates, lists, gets, patches with If-Match, calls
// ImportSequence, SetSequence and GetSequence and deletes through it.
func TestGeneratedClient(t *testing.T) {
	node := nodeTool(t, clientDir, "@odata2ts/odata2ts/package.json", requireClientTest, "odata2ts")
	s := newTestServer(t, 0)
	md := s.must(200, "GET", "/odata/$metadata", nil)

	abs, err := filepath.Abs(clientDir)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.Symlink(filepath.Join(abs, "node_modules"), filepath.Join(work, "node_modules")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tsconfig.json", "client.ts"} {
		b, err := os.ReadFile(filepath.Join(clientDir, f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(work, f)
		if f == "client.ts" {
			dst = filepath.Join(work, "build", f)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(work, "metadata.xml"), md.raw, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(work, "node_modules", ".bin")
	run(t, work, node, filepath.Join(bin, "odata2ts"), "-s", "metadata.xml", "-o", "build/gen", "-m", "all", "-e", "ts", "-name", "Tsprov")
	run(t, work, node, filepath.Join(bin, "tsc"), "-p", ".")
	xml, err := filepath.Abs(corpusObjectXML)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, work, node, filepath.Join("build", "out", "client.js"), s.url+"/odata", xml)
	t.Logf("client:\n%s", out)
	if !strings.Contains(out, "ok a deleted package is not found") {
		t.Fatalf("the client script stopped early:\n%s", out)
	}
}
