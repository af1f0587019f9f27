package auth

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct") {
		t.Errorf("hash %q", h)
	}
	for pw, want := range map[string]bool{"correct horse battery staple": true, "correct horse battery stapl": false, "": false} {
		ok, err := VerifyPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("verify %q: %v %v, want %v", pw, ok, err, want)
		}
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h2 == h {
		t.Errorf("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=1,t=1,p=1$$", "$bcrypt$x", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaA"} {
		if _, err := VerifyPassword(bad, "x"); err == nil {
			t.Errorf("VerifyPassword(%q) accepted a bad hash", bad)
		}
	}
}

func TestTokens(t *testing.T) {
	a, ha, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, hb, _ := NewToken()
	if a == b || ha == hb || len(a) != len(TokenPrefix)+43 || ha != HashToken(a) || strings.Contains(ha, a) {
		t.Errorf("tokens %q %q hashes %q %q", a, b, ha, hb)
	}
	if TokenID(ha) == TokenID(hb) || strings.Contains(ha, TokenID(ha)) {
		t.Errorf("token ids %q %q", TokenID(ha), TokenID(hb))
	}
}

func TestThrottle(t *testing.T) {
	now := time.Unix(0, 0)
	th := NewThrottle(3, time.Minute)
	th.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if b, _ := th.Blocked("a"); b {
			t.Fatalf("blocked after %d failures", i)
		}
		th.Fail("a")
	}
	if b, wait := th.Blocked("a"); !b || wait != time.Minute {
		t.Errorf("after 3 failures: %v %v", b, wait)
	}
	if b, _ := th.Blocked("b"); b {
		t.Errorf("another address is blocked")
	}
	now = now.Add(time.Minute)
	if b, _ := th.Blocked("a"); b {
		t.Errorf("still blocked after the window")
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := NewRateLimiter(10, 10)
	l.now = func() time.Time { return now }
	for i := 0; i < 10; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	if ok, wait := l.Allow("a"); ok || wait != 100*time.Millisecond {
		t.Errorf("11th: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Errorf("another address is limited")
	}
	now = now.Add(100 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Errorf("refused after a token came back")
	}
}

func TestPrincipal(t *testing.T) {
	p := &Principal{Perms: map[int64]Op{20: Read | Modify}, Scopes: []string{"PS100001"}}
	if !p.Can(20, Read) || !p.Can(20, Read|Modify) || p.Can(20, Delete) || p.Can(2, Read) {
		t.Errorf("Can")
	}
	if !p.InScope([]string{"SMS00UNA", "PS100001"}) || p.InScope([]string{"SMS00UNA"}) || p.AllInstances() {
		t.Errorf("InScope")
	}
	if got := p.CreationScopes(); len(got) != 1 || got[0] != "PS100001" {
		t.Errorf("CreationScopes %v", got)
	}
	all := &Principal{Scopes: []string{AllScopes}}
	if !all.InScope(nil) || all.CreationScopes()[0] != DefaultScope {
		t.Errorf("All scope")
	}
}
