package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store/sqlite"
	"github.com/tsprov/tsprov/schema"
)

var sealedValue = regexp.MustCompile(regexp.QuoteMeta(secrets.Prefix) + `[A-Za-z0-9_-]+`)

// storedSecrets opens the stored Sequence of a package straight from the
// SQLite file and returns the plain text of every sealed value in it,
// sorted (the server must be stopped).
func storedSecrets(t *testing.T, dir, id string) []string {
	t.Helper()
	box, _, err := secrets.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := openAll(box, sealedValues(t, dir, id))
	if err != nil {
		t.Fatalf("a stored secret does not open with the key in the data folder: %v", err)
	}
	return out
}

// openAll opens sealed values, sorted.
func openAll(box *secrets.Box, sealed []string) ([]string, error) {
	var out []string
	for _, v := range sealed {
		plain, err := box.Open(v)
		if err != nil {
			return nil, err
		}
		out = append(out, plain)
	}
	sort.Strings(out)
	return out, nil
}

// sealedValues returns the sealed values in the stored Sequence of a
// package, read straight from the SQLite file.
func sealedValues(t *testing.T, dir, id string) []string {
	t.Helper()
	reg, err := schema.Registry()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, databaseFile), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, _ := reg.Class("SMS_TaskSequencePackage")
	var xml string
	err = st.Read(context.Background(), func(tx storeReadTx) error {
		rec, err := tx.Get(context.Background(), c, id, true)
		if err != nil {
			return err
		}
		xml = rec.Instance.String("Sequence")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sealedValue.FindAllString(xml, -1)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Secrets are sealed at rest, never read back, and survive a client that
// reads a sequence and writes it back unchanged; a changed secret is
// stored, the others kept.
func TestSecretsAreSealedNeverReadAndSurviveARoundTrip(t *testing.T) {
	s := startSecureServer(t, nil)
	const tag = "rt7Q"
	id := s.storeSequence(s.admin, "Secrets", secretSequenceXML(tag))

	// no read shows them: key GET, GetSequence, WQL, a collection
	key := s.must(200, s.admin, "GET", "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", nil)
	seq := s.must(200, s.admin, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id}})
	list := s.must(200, s.admin, "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil)
	wql := s.must(200, s.admin, "GET", "/tsprov/v1/wql?q="+urlQuery("SELECT * FROM SMS_TaskSequencePackage"), nil)
	for _, a := range []answer{key, seq, list, wql} {
		for _, v := range secretValues(tag) {
			if strings.Contains(string(a.raw), v) {
				t.Errorf("a read returned the secret %s: %.300s", v, a.raw)
			}
			if strings.Contains(string(a.raw), secrets.Prefix) {
				t.Errorf("a read returned a sealed value")
			}
		}
	}
	xml := key.body["value"].([]any)[0].(map[string]any)["Sequence"].(string)
	if !strings.Contains(xml, `property="DomainPassword"></variable>`) || !strings.Contains(xml, `property="ProductKey"></variable>`) {
		t.Errorf("the Sequence read back does not hold the secrets emptied:\n%s", xml)
	}

	// write back exactly what was read
	s.must(200, s.admin, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
		"TaskSequence":        seq.body["TaskSequence"],
	})
	// and a whole-entity PUT of the package as read
	fresh := s.must(200, s.admin, "GET", "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", nil)
	entity := fresh.body["value"].([]any)[0].(map[string]any)
	delete(entity, "@odata.etag")
	s.must(200, s.admin, "PUT", "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", entity)

	// change one secret, keep the others
	ts := seq.body["TaskSequence"].(map[string]any)
	steps := ts["Steps"].([]any)
	steps[0].(map[string]any)["AdminPassword"] = "NEWADMINPW-" + tag
	s.must(200, s.admin, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
		"TaskSequence":        ts,
	})
	s.stop()

	got := storedSecrets(t, s.dir, id)
	want := sorted([]string{"PK-" + tag + "-KEY", "NEWADMINPW-" + tag, "JOINPW-" + tag, "CAPTUREPW-" + tag, "SECVAR-" + tag})
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("stored secrets after the round trips: %v, want %v", got, want)
	}
	info, err := os.Stat(filepath.Join(s.dir, secrets.KeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v (want 0600)", err, info.Mode())
	}
}

// A refused write of the read-only Sequence does not show the stored
// value with its sealed secrets in the error.
func TestRefusedSequenceWriteShowsNoSealedValue(t *testing.T) {
	s := startSecureServer(t, nil)
	id := s.storeSequence(s.admin, "Secrets", secretSequenceXML("ro3X"))
	a := s.do(s.admin, "PATCH", tsPath+"('"+id+"')", map[string]any{"Sequence": "<sequence version=\"3.00\"/>"})
	envelope(t, "PATCH of Sequence", a)
	if strings.Contains(string(a.raw), secrets.Prefix) {
		t.Errorf("the error shows a sealed value: %.600s", a.raw)
	}
}

// The key may come from TSPROV_SECRET_KEY instead of the key file, so that
// servers sharing a database share it; then no key file is made.
func TestSecretKeyFromTheEnvironment(t *testing.T) {
	t.Setenv(secrets.EnvKey, strings.Repeat("ab", 32))
	s := startSecureServer(t, nil)
	id := s.storeSequence(s.admin, "Env key", secretSequenceXML("envK"))
	s.stop()
	if _, err := os.Stat(filepath.Join(s.dir, secrets.KeyFile)); !os.IsNotExist(err) {
		t.Errorf("a key file was made although %s is set (%v)", secrets.EnvKey, err)
	}
	if got := storedSecrets(t, s.dir, id); len(got) != 5 {
		t.Errorf("secrets sealed with the environment's key: %v", got)
	}
	t.Setenv(secrets.EnvKey, "too short")
	cfg := Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Stdout: &syncBuffer{}}
	if err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), secrets.EnvKey) {
		t.Errorf("a bad %s: Run returned %v", secrets.EnvKey, err)
	}
}

// No token, password or secret appears in plain text in the database
// files, the logs, /metrics, an error message or the audit trail.
func TestNoSecretAppearsInPlainText(t *testing.T) {
	s := startSecureServer(t, nil)
	const tag = "gr3p"
	carol := s.addUser("carol", []string{"SMS0007R"}, []string{"SMS00UNA"})
	const password = "CAROLPW-gr3p-long-enough"
	s.must(204, carol, "PUT", "/tsprov/v1/admins/me/password", map[string]any{"Password": password})
	basic := s.do("", "GET", "/AdminService/wmi/SMS_TaskSequencePackage", nil, "Authorization", basicAuth("carol", password))
	if basic.status != 200 {
		t.Fatalf("HTTP Basic with the password set: %d %s", basic.status, basic.raw)
	}
	id := s.storeSequence(carol, "Secrets", secretSequenceXML(tag))
	s.must(200, carol, "GET", "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", nil)

	// failures that might echo what they were given
	wrongPW := "WRONGPW-" + tag
	wrongToken := "tsp_WRONGTOKEN" + tag + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	s.do("", "GET", "/AdminService/wmi/SMS_Admin", nil, "Authorization", basicAuth("carol", wrongPW))
	s.do(wrongToken, "GET", "/AdminService/wmi/SMS_Admin", nil)
	s.do("", "GET", "/AdminService/wmi/SMS_Admin", nil, "Authorization", "Basic "+wrongPW)
	s.do(carol, "PUT", "/tsprov/v1/admins/me/password", map[string]any{"Password": "short" + tag})
	longPW := "LONGPW-" + tag + strings.Repeat("x", 300)
	bad := strings.Replace(secretSequenceXML(tag), "ADMINPW-"+tag, longPW, 1)
	imp := s.do(carol, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.ImportSequence", map[string]any{"SequenceXML": bad})
	if imp.status == 200 {
		s.do(carol, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
			"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
			"TaskSequence":        imp.body["TaskSequence"],
		})
	}
	s.do(carol, "PATCH", "/AdminService/wmi/SMS_TaskSequencePackage('"+id+"')", map[string]any{"Sequence": secretSequenceXML(tag)})

	metrics := s.must(200, s.admin, "GET", "/metrics", nil)
	audit := s.must(200, s.admin, "GET", "/tsprov/v1/audit", nil)
	s.stop()

	needles := append(secretValues(tag), s.admin, carol, password, wrongPW, wrongToken, "LONGPW-"+tag, "short"+tag)
	var haystacks []struct{ name, text string }
	add := func(name, text string) { haystacks = append(haystacks, struct{ name, text string }{name, text}) }
	add("the log", s.logs.String())
	add("standard output", s.stdout.String())
	add("/metrics", string(metrics.raw))
	add("the audit trail", string(audit.raw))
	add("error messages", s.errorBodies.String())
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		add(path, string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, h := range haystacks {
		if strings.HasPrefix(h.name, s.dir) {
			files++
		}
		for _, n := range needles {
			if strings.Contains(h.text, n) {
				t.Errorf("%s holds %q in plain text", h.name, n)
			}
		}
	}
	if files < 2 {
		t.Errorf("searched %d files of the data folder; expected the database and the key", files)
	}
	// the trail did record the failures, by name only
	var trail struct {
		Value []map[string]any `json:"value"`
	}
	_ = json.Unmarshal(audit.raw, &trail)
	failed := 0
	for _, r := range trail.Value {
		if r["Action"] == "LoginFailed" {
			failed++
		}
	}
	if failed < 2 {
		t.Errorf("the audit trail holds %d failed sign-ins, want at least 2", failed)
	}
}

// Rotating the secret key reseals every stored secret with a new key; the
// old key opens none of them afterwards, and the server goes on with the
// new one.
func TestRotateTheSecretKey(t *testing.T) {
	t.Setenv(secrets.EnvKey, "")
	s := startSecureServer(t, nil)
	const tag = "r0t8"
	id := s.storeSequence(s.admin, "Rotated", secretSequenceXML(tag))
	s.stop()
	oldKey, err := os.ReadFile(filepath.Join(s.dir, secrets.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	n, err := Rekey(context.Background(), Config{DataDir: s.dir})
	if err != nil || n != 10 {
		t.Fatalf("Rekey: %d, %v; want 10 values resealed (5 in the package, 5 in its one revision)", n, err)
	}
	newKey, _ := os.ReadFile(filepath.Join(s.dir, secrets.KeyFile))
	if string(newKey) == string(oldKey) || strings.Count(string(newKey), "\n") != 1 {
		t.Errorf("key file after rotation:\n%s", newKey)
	}
	if got := storedSecrets(t, s.dir, id); strings.Join(got, ",") != strings.Join(sorted(secretValues(tag)), ",") {
		t.Errorf("secrets after rotation: %v", got)
	}
	// the old key opens nothing any more
	oldKeys := strings.Fields(string(oldKey))
	oldBox, err := secrets.New(mustHex(t, oldKeys[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range sealedValues(t, s.dir, id) {
		if _, err := oldBox.Open(v); err == nil {
			t.Errorf("the old key still opens a resealed secret")
		}
	}
	again := startSecureServer(t, func(c *Config) { c.DataDir = s.dir })
	seq := again.must(200, s.admin, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.GetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id}})
	again.must(200, s.admin, "POST", "/AdminService/wmi/SMS_TaskSequencePackage.SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
		"TaskSequence":        seq.body["TaskSequence"],
	})
	again.stop()
	if got := storedSecrets(t, s.dir, id); len(got) != 5 {
		t.Errorf("after a round trip on the new key: %v", got)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
