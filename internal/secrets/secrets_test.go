package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenStrip(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvKey, "")
	b, created, err := Load(dir)
	if err != nil || !created {
		t.Fatalf("Load: %v %v", created, err)
	}
	info, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v)", info.Mode(), err)
	}
	s1, s2 := b.Seal("P@ssw0rd"), b.Seal("P@ssw0rd")
	if s1 == s2 || strings.Contains(s1, "P@ssw0rd") || !IsSealed(s1) {
		t.Errorf("sealed %q %q", s1, s2)
	}
	if b.Seal(s1) != s1 {
		t.Errorf("sealing a sealed value sealed it again")
	}
	again, created, err := Load(dir)
	if err != nil || created {
		t.Fatalf("reload: %v %v", created, err)
	}
	if p, err := again.Open(s1); err != nil || p != "P@ssw0rd" {
		t.Errorf("open with the reloaded key: %q %v", p, err)
	}
	if _, err := Ephemeral().Open(s1); err == nil {
		t.Errorf("another key opened the value")
	}
	tampered := s1[:len(s1)-2] + "AA"
	if _, err := b.Open(tampered); err == nil {
		t.Errorf("a tampered value opened")
	}
	xml := `<variable name="OSDJoinPassword" property="DomainPassword">` + s1 + `</variable>`
	if got := Strip(xml); got != `<variable name="OSDJoinPassword" property="DomainPassword"></variable>` {
		t.Errorf("Strip: %s", got)
	}
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("not hex"), 0o600)
	if _, _, err := Load(dir); err == nil {
		t.Errorf("a bad key file loaded")
	}
}
