// Package krbtest runs a real MIT Kerberos realm for tests: a temporary
// database, krb5.conf and kdc.conf in a test's temporary folder, and
// krb5kdc as a child process listening on 127.0.0.1 only, at a free
// port. Tickets are obtained with kinit into a credential cache of the
// test's own. Nothing outside the folder is read or changed: the realm's
// programs see only its files (KRB5_CONFIG, KRB5_KDC_PROFILE).
//
// Without the MIT programs (Debian: krb5-kdc, krb5-admin-server,
// krb5-user) a test that needs them is skipped, unless the environment
// variable RequireEnv is set: then it fails.
package krbtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RequireEnv, when set to anything but "", turns a skip for missing
// Kerberos programs into a failure (CI sets it).
const RequireEnv = "TSPROV_REQUIRE_KERBEROS"

// Name is the test realm.
const Name = "TSPROV.TEST"

// programs are the MIT programs the realm needs, and their packages.
var programs = map[string]string{
	"krb5kdc":      "krb5-kdc",
	"kdb5_util":    "krb5-kdc",
	"kadmin.local": "krb5-admin-server",
	"kinit":        "krb5-user",
}

// Realm is a running test realm.
type Realm struct {
	t    *testing.T
	dir  string
	port int
	env  []string
	bins map[string]string
}

// Start creates the realm and starts its KDC, stopped when the test
// ends. It skips the test (or fails it, with RequireEnv) when a program
// is missing.
func Start(t *testing.T) *Realm {
	t.Helper()
	r := &Realm{t: t, dir: t.TempDir(), bins: map[string]string{}}
	var missing []string
	for prog, pkg := range programs {
		p, err := lookPath(prog)
		if err != nil {
			missing = append(missing, prog+" ("+pkg+")")
			continue
		}
		r.bins[prog] = p
	}
	if len(missing) > 0 {
		msg := "MIT Kerberos programs not found: " + strings.Join(missing, ", ") + "; install krb5-kdc krb5-admin-server krb5-user"
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%s (%s is set, so this test may not be skipped)", msg, RequireEnv)
		}
		t.Skip(msg)
	}
	r.port = freePort(t)
	r.writeConfig()
	r.env = append(os.Environ(),
		"KRB5_CONFIG="+r.path("krb5.conf"),
		"KRB5_KDC_PROFILE="+r.path("kdc.conf"),
		"KRB5CCNAME=FILE:"+r.path("default.ccache"),
		"KRB5_TRACE=/dev/null",
	)
	r.run("", "kdb5_util", "create", "-s", "-r", Name, "-P", "master-password-of-the-test-realm")
	r.startKDC()
	return r
}

// lookPath finds a program on PATH or in the system folders where
// Debian puts the KDC's (not on every user's PATH).
func lookPath(prog string) (string, error) {
	if p, err := exec.LookPath(prog); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		p := filepath.Join(d, prog)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", prog)
}

func (r *Realm) path(name string) string { return filepath.Join(r.dir, name) }

// Env is the environment the realm's client programs need (KRB5_CONFIG),
// to be added to a program's own, such as curl's.
func (r *Realm) Env() []string { return r.env }

// Config is the realm's krb5.conf file.
func (r *Realm) Config() string { return r.path("krb5.conf") }

// freePort picks a free TCP port on loopback (the KDC listens on it for
// both UDP and TCP).
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port on 127.0.0.1 for the KDC")
	return 0
}

func (r *Realm) writeConfig() {
	krb5 := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	udp_preference_limit = 1
[realms]
	%[1]s = {
		kdc = 127.0.0.1:%[2]d
	}
[domain_realm]
	localhost = %[1]s
`, Name, r.port)
	kdc := fmt.Sprintf(`[kdcdefaults]
	kdc_listen = 127.0.0.1:%[2]d
	kdc_tcp_listen = 127.0.0.1:%[2]d
[realms]
	%[1]s = {
		database_name = %[3]s/principal
		key_stash_file = %[3]s/stash
		acl_file = %[3]s/kadm5.acl
		kdc_listen = 127.0.0.1:%[2]d
		kdc_tcp_listen = 127.0.0.1:%[2]d
		max_life = 1h
		max_renewable_life = 0
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:%[3]s/kdc.log
	default = FILE:%[3]s/kdc.log
`, Name, r.port, r.dir)
	for name, text := range map[string]string{"krb5.conf": krb5, "kdc.conf": kdc, "kadm5.acl": ""} {
		if err := os.WriteFile(r.path(name), []byte(text), 0o600); err != nil {
			r.t.Fatal(err)
		}
	}
}

// run runs one of the realm's programs with stdin and returns its
// output, failing the test on an error.
func (r *Realm) run(stdin, prog string, args ...string) string {
	r.t.Helper()
	out, err := r.try(stdin, prog, args...)
	if err != nil {
		r.t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return out
}

func (r *Realm) try(stdin, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bins[prog], args...)
	cmd.Env = r.env
	cmd.Dir = r.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// startKDC starts krb5kdc in the foreground as a child process and waits
// until it answers; it is stopped when the test ends.
func (r *Realm) startKDC() {
	r.t.Helper()
	cmd := exec.Command(r.bins["krb5kdc"], "-n", "-r", Name, "-P", r.path("kdc.pid"))
	cmd.Env = r.env
	cmd.Dir = r.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start krb5kdc: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	r.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			log, _ := os.ReadFile(r.path("kdc.log"))
			r.t.Fatalf("krb5kdc exited: %v\n%s\n%s", err, out.String(), log)
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("krb5kdc does not answer on 127.0.0.1:%d: %v", r.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AddUser creates the principal name@REALM with a password.
func (r *Realm) AddUser(name, password string) {
	r.t.Helper()
	r.run("", "kadmin.local", "-r", Name, "-q", fmt.Sprintf("addprinc -pw %s %s@%s", password, name, Name))
}

// AddService creates the service principal spn@REALM (HTTP/localhost)
// with a random key and writes that key to a new keytab file, whose path
// it returns.
func (r *Realm) AddService(spn string) string {
	r.t.Helper()
	kt := r.path(strings.NewReplacer("/", "_", "@", "_").Replace(spn) + ".keytab")
	r.run("", "kadmin.local", "-r", Name, "-q", fmt.Sprintf("addprinc -randkey %s@%s", spn, Name))
	r.run("", "kadmin.local", "-r", Name, "-q", fmt.Sprintf("ktadd -k %s %s@%s", kt, spn, Name))
	return kt
}

// Kinit obtains a ticket-granting ticket for name@REALM with the
// password (given on standard input, as a person types it) into a new
// credential cache, whose KRB5CCNAME value it returns. lifetime, when not
// empty, is kinit's -l (such as "4s").
func (r *Realm) Kinit(name, password, lifetime string) string {
	r.t.Helper()
	cache := "FILE:" + r.path(fmt.Sprintf("cc-%s-%d", name, time.Now().UnixNano()))
	args := []string{"-c", cache}
	if lifetime != "" {
		args = append(args, "-l", lifetime)
	}
	r.run(password+"\n", "kinit", append(args, name+"@"+Name)...)
	return cache
}
