package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	osuser "os/user"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/client"
	"github.com/tsprov/tsprov/internal/server"
)

// runAdmin manages administrative users and API tokens on a server:
//
//	tsprov admin user list
//	tsprov admin user add NAME [--role R]… [--scope S]…
//	tsprov admin user delete NAME
//	tsprov admin user passwd NAME        (the password is read from standard input)
//	tsprov admin token create [--user NAME] [--days N] [--description D]
//	tsprov admin token list [--all]
//	tsprov admin token revoke TOKENID
//	tsprov admin secret-key rotate [--data DIR] [--database URL]   (servers stopped)
//	tsprov admin reset-token [--data DIR] [--database URL] [--user NAME]   (no server needed)
func runAdmin(args []string, stdout io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, adminUsage)
		return nil
	}
	for n := min(2, len(args)); n >= 1; n-- {
		if fn, ok := adminCommands[strings.Join(args[:n], " ")]; ok {
			return fn(args[n:], stdout)
		}
	}
	if len(args) == 0 {
		return usageError{adminUsage}
	}
	return usageError{fmt.Sprintf("unknown admin command %q (%s)", strings.Join(args[:min(2, len(args))], " "), adminUsage)}
}

const adminUsage = "usage: tsprov admin user list|add|delete|passwd …, tsprov admin token create|list|revoke …, tsprov admin secret-key rotate, or tsprov admin reset-token"

// adminCommands are the admin subcommands by their words (completion
// reads them too).
var adminCommands = map[string]func(args []string, stdout io.Writer) error{
	"user list":         adminUserList,
	"user add":          adminUserAdd,
	"user delete":       adminUserDelete,
	"user passwd":       func(args []string, stdout io.Writer) error { return adminUserPasswd(args, stdout, os.Stdin) },
	"token create":      adminTokenCreate,
	"token list":        adminTokenList,
	"token revoke":      adminTokenRevoke,
	"secret-key rotate": adminRekey,
	"reset-token":       adminResetToken,
}

// strings flag: repeatable.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func adminFlags(name string) (*flag.FlagSet, *clientFlags) { return connectionFlags("admin " + name) }

func adminUserList(args []string, stdout io.Writer) error {
	fs, cf := adminFlags("user list")
	output := fs.String("output", "table", "table or json")
	if err := parseNoArgs(fs, args, "admin user list takes no arguments"); err != nil {
		return err
	}
	rows, err := cf.client().List(context.Background(), "SMS_Admin", client.ListOptions{})
	if err != nil {
		return err
	}
	return writeRows(stdout, *output, rows, []string{"AdminID", "LogonName", "RoleNames", "CategoryNames"})
}

// resolve finds the key of the instance of class whose key or name
// property equals v.
func resolve(ctx context.Context, c *client.Client, class, keyProp, nameProp, v string) (string, error) {
	rows, err := c.List(ctx, class, client.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, r := range rows {
		if fmt.Sprint(r[keyProp]) == v || strings.EqualFold(fmt.Sprint(r[nameProp]), v) {
			return fmt.Sprint(r[keyProp]), nil
		}
	}
	return "", fmt.Errorf("no %s named %q", class, v)
}

// resolveAll resolves each of vs (see resolve).
func resolveAll(ctx context.Context, c *client.Client, class, keyProp, nameProp string, vs []string) ([]any, error) {
	var keys []any
	for _, v := range vs {
		key, err := resolve(ctx, c, class, keyProp, nameProp, v)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func adminUserAdd(args []string, stdout io.Writer) error {
	fs, cf := adminFlags("user add")
	var roles, scopes stringList
	fs.Var(&roles, "role", "security role (name or RoleID), repeatable (default Read-only Analyst)")
	fs.Var(&scopes, "scope", "security scope (name or CategoryID), repeatable (default Default)")
	display := fs.String("display-name", "", "display name")
	rest, err := parseArgs(fs, args, 1, "admin user add takes one logon name")
	if err != nil {
		return err
	}
	ctx := context.Background()
	c := cf.client()
	if len(roles) == 0 {
		roles = stringList{"Read-only Analyst"}
	}
	if len(scopes) == 0 {
		scopes = stringList{"Default"}
	}
	roleIDs, err := resolveAll(ctx, c, "SMS_Role", "RoleID", "RoleName", roles)
	if err != nil {
		return err
	}
	scopeIDs, err := resolveAll(ctx, c, "SMS_SecuredCategory", "CategoryID", "CategoryName", scopes)
	if err != nil {
		return err
	}
	e, err := c.Create(ctx, "SMS_Admin", client.Entity{"LogonName": rest[0], "DisplayName": *display, "Roles": roleIDs, "Categories": scopeIDs})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, e["AdminID"])
	return nil
}

func adminUserID(ctx context.Context, c *client.Client, v string) (string, error) {
	return resolve(ctx, c, "SMS_Admin", "AdminID", "LogonName", v)
}

func adminUserDelete(args []string, stdout io.Writer) error {
	fs, cf := adminFlags("user delete")
	rest, err := parseArgs(fs, args, 1, "admin user delete takes one logon name or AdminID")
	if err != nil {
		return err
	}
	ctx := context.Background()
	c := cf.client()
	id, err := adminUserID(ctx, c, rest[0])
	if err != nil {
		return err
	}
	if err := c.Delete(ctx, "SMS_Admin", id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deleted user %s (AdminID %s) with its tokens and password\n", rest[0], id)
	return nil
}

func adminUserPasswd(args []string, stdout io.Writer, stdin io.Reader) error {
	fs, cf := adminFlags("user passwd")
	rest, err := parseArgs(fs, args, 1, "admin user passwd takes one logon name or AdminID (me: yourself); the password is read from standard input")
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read the password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	ctx := context.Background()
	c := cf.client()
	id := rest[0]
	if id != "me" {
		if id, err = adminUserID(ctx, c, rest[0]); err != nil {
			return err
		}
	}
	if err := c.Call(ctx, http.MethodPut, "/tsprov/v1/admins/"+url.PathEscape(id)+"/password", map[string]any{"Password": pw}, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "set the password of %s\n", rest[0])
	return nil
}

func adminTokenCreate(args []string, stdout io.Writer) error {
	fs, cf := adminFlags("token create")
	user := fs.String("user", "", "logon name or AdminID of the user (default: yourself)")
	days := fs.Int("days", 90, "days until the token expires (0: never)")
	desc := fs.String("description", "", "what the token is for")
	if err := parseNoArgs(fs, args, "admin token create takes no arguments"); err != nil {
		return err
	}
	ctx := context.Background()
	c := cf.client()
	body := map[string]any{"Description": *desc, "ExpiresInDays": *days}
	if *user != "" {
		id, err := adminUserID(ctx, c, *user)
		if err != nil {
			return err
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		body["AdminID"] = n
	}
	var out struct {
		Token   string `json:"Token"`
		TokenID string `json:"TokenID"`
	}
	if err := c.Call(ctx, http.MethodPost, "/tsprov/v1/tokens", body, &out); err != nil {
		return err
	}
	fmt.Fprintln(stdout, out.Token)
	fmt.Fprintf(os.Stderr, "token %s created; it is shown only this once\n", out.TokenID)
	return nil
}

func adminTokenList(args []string, stdout io.Writer) error {
	fs, cf := adminFlags("token list")
	all := fs.Bool("all", false, "every user's tokens")
	output := fs.String("output", "table", "table or json")
	if err := parseNoArgs(fs, args, "admin token list takes no arguments"); err != nil {
		return err
	}
	path := "/tsprov/v1/tokens"
	if *all {
		path += "?all=true"
	}
	rows, err := cf.client().Collection(context.Background(), path)
	if err != nil {
		return err
	}
	return writeRows(stdout, *output, rows, []string{"TokenID", "AdminID", "Description", "Created", "Expires", "Revoked"})
}

func adminTokenRevoke(args []string, stdout io.Writer) error {
	fs, cf := adminFlags("token revoke")
	rest, err := parseArgs(fs, args, 1, "admin token revoke takes one TokenID")
	if err != nil {
		return err
	}
	if err := cf.client().Call(context.Background(), http.MethodDelete, "/tsprov/v1/tokens/"+url.PathEscape(rest[0]), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked token %s\n", rest[0])
	return nil
}

// adminRekey rotates the secret key offline, on the data folder (and
// database) of stopped servers.
func adminRekey(args []string, stdout io.Writer) error {
	var cfg server.Config
	fs := flag.NewFlagSet("admin secret-key rotate", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", envOr("TSPROV_DATA", server.DefaultDataDir), "data folder (holds the key file and the SQLite database)")
	fs.StringVar(&cfg.Database, "database", envOr("TSPROV_DATABASE", ""), "PostgreSQL URL, when the servers use one")
	if err := parseNoArgs(fs, args, "admin secret-key rotate takes no arguments"); err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := server.Rekey(context.Background(), cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "resealed %d secret value(s) with the new key\n", n)
	return nil
}

// adminResetToken prints a new API token for the first Full Administrator
// (or --user), made on the store directly: the way back in for whoever
// holds the data folder. It is recorded in the audit trail.
func adminResetToken(args []string, stdout io.Writer) error {
	var cfg server.Config
	fs := flag.NewFlagSet("admin reset-token", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data", envOr("TSPROV_DATA", server.DefaultDataDir), "data folder (holds the SQLite database)")
	fs.StringVar(&cfg.Database, "database", envOr("TSPROV_DATABASE", ""), "PostgreSQL URL, when the servers use one")
	user := fs.String("user", "", "logon name or AdminID of the user (default: the first Full Administrator)")
	if err := parseNoArgs(fs, args, "admin reset-token takes no arguments"); err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := server.ResetToken(context.Background(), cfg, *user, operatorName())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res.Token)
	fmt.Fprintf(os.Stderr, "token %s created for %s (AdminID %d); it is shown only this once, and the audit trail records it (TokenReset)\n", res.TokenID, res.LogonName, res.AdminID)
	return nil
}

// operatorName names the local account that runs an offline command, for
// the audit trail.
func operatorName() string {
	name := envOr("USER", envOr("USERNAME", "unknown"))
	if u, err := osuser.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	if host != "" {
		name += "@" + host
	}
	return "local:" + name
}
