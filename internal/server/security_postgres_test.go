package server

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth"
	"github.com/tsprov/tsprov/internal/secrets"
	"github.com/tsprov/tsprov/internal/store/postgres/pgtest"
)

// Two servers started at once on one PostgreSQL database with one
// TSPROV_ADMIN_TOKEN and one TSPROV_SECRET_KEY: one first administrator
// between them; a user, a token, scopes, a revocation and the secrets of a
// sequence made through one hold on the other.
func TestSecurityAcrossServersOnPostgres(t *testing.T) {
	url := pgtest.URL(t, t.Name())
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	t.Setenv(secrets.EnvKey, hex.EncodeToString(key))
	token, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	servers := make([]*secureServer, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() {
			servers[i], errs[i] = launchSecureServer(t, token, func(c *Config) { c.Database = url })
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	a, b := servers[0], servers[1]
	admins := a.must(200, token, "GET", "/AdminService/wmi/SMS_Admin", nil).body["value"].([]any)
	if len(admins) != 1 {
		t.Fatalf("%d administrative users after two first starts, want 1", len(admins))
	}
	roles := b.must(200, token, "GET", "/AdminService/wmi/SMS_Role", nil).body["value"].([]any)
	if len(roles) != 3 {
		t.Errorf("%d roles after two first starts, want the 3 built-in ones", len(roles))
	}
	lab := a.must(201, token, "POST", "/AdminService/wmi/SMS_SecuredCategory", map[string]any{"CategoryName": "Lab"}).body["CategoryID"].(string)
	alice := a.addUser("alice", []string{"SMS0007R"}, []string{lab})
	const tag = "pgS2"
	id := b.storeSequence(alice, "Across", secretSequenceXML(tag))
	got := a.must(200, alice, "GET", tsPath+"('"+id+"')", nil)
	for _, v := range secretValues(tag) {
		if strings.Contains(string(got.raw), v) {
			t.Errorf("server A returned the secret %s", v)
		}
	}
	seq := a.must(200, alice, "POST", tsPath+".GetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id}})
	a.must(200, alice, "POST", tsPath+".SetSequence", map[string]any{
		"TaskSequencePackage": map[string]any{"@odata.type": "#AdminService.SMS_TaskSequencePackage", "PackageID": id},
		"TaskSequence":        seq.body["TaskSequence"],
	})
	bob := b.addUser("bob", []string{"SMS0007R"}, []string{"SMS00UNA"})
	a.must(404, bob, "GET", tsPath+"('"+id+"')", nil)
	// a token revoked through B stops working on A (within the cache's 5 s)
	tokens := b.must(200, alice, "GET", "/tsprov/v1/tokens", nil).body["value"].([]any)
	b.must(204, token, "DELETE", "/tsprov/v1/tokens/"+tokens[0].(map[string]any)["TokenID"].(string), nil)
	deadline := time.Now().Add(7 * time.Second)
	for {
		st := a.do(alice, "GET", tsPath, nil).status
		if st == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a token revoked on server B still works on server A after 7 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
