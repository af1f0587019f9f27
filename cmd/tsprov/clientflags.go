package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
	"github.com/tsprov/tsprov/internal/client"
	"github.com/tsprov/tsprov/schema"
)

// defaultClass is the class client commands work on unless --class says.
const defaultClass = "SMS_TaskSequencePackage"

// clientFlags are the flags every client command takes.
type clientFlags struct {
	server string
	class  string
	token  string
	cacert string
	// message is the comment changes record in the history (--message).
	message string
}

// registerConnection registers the flags that say where the server is and
// how to sign in.
func (c *clientFlags) registerConnection(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", envOr("TSPROV_SERVER", "http://127.0.0.1:8080"), "server URL (env TSPROV_SERVER)")
	fs.StringVar(&c.token, "token", "", "API token (default: env TSPROV_TOKEN)")
	fs.StringVar(&c.cacert, "cacert", envOr("TSPROV_CACERT", ""), "PEM file of a certificate to trust, such as the server's self-signed one (env TSPROV_CACERT)")
}

// classFlags returns the flag set of a command that works on a class
// (--class), the connection flags registered.
func classFlags(name string) (*flag.FlagSet, *clientFlags) {
	fs, cf := connectionFlags(name)
	fs.StringVar(&cf.class, "class", defaultClass, "WMI class")
	cf.registerMessage(fs)
	return fs, cf
}

// registerMessage registers --message (-m), the comment a change records
// in the package's history.
func (c *clientFlags) registerMessage(fs *flag.FlagSet) {
	fs.StringVar(&c.message, "message", "", "comment recorded with the change in the package's history (X-Tsprov-Comment)")
	fs.StringVar(&c.message, "m", "", "short for --message")
}

// connectionFlags returns the flag set of a command that talks to a
// server without naming a class, the connection flags registered.
func connectionFlags(name string) (*flag.FlagSet, *clientFlags) {
	var cf clientFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cf.registerConnection(fs)
	return fs, &cf
}

func (c *clientFlags) client() *client.Client {
	cl := client.New(c.server)
	cl.Token, cl.Comment = c.token, c.message
	if cl.Token == "" {
		cl.Token = os.Getenv("TSPROV_TOKEN")
	}
	if c.cacert != "" {
		if err := cl.TrustCA(c.cacert); err != nil {
			cl.HTTP.Transport = failing{&client.NetworkError{Message: err.Error(), Err: err}}
		}
	}
	return cl
}

// failing is a transport whose every request fails with err (a CA file
// that could not be read).
type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

// propertyValues turns Prop=Value arguments into JSON members, typed by the
// class's schema (numbers for integers, true/false for booleans).
func propertyValues(className string, pairs []string) (map[string]any, error) {
	reg, err := schema.Registry()
	if err != nil {
		return nil, err
	}
	c, ok := reg.Class(className)
	if !ok {
		return nil, usageError{fmt.Sprintf("unknown class %s", className)}
	}
	out := map[string]any{}
	for _, pair := range pairs {
		name, val, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, usageError{fmt.Sprintf("%q is not Prop=Value", pair)}
		}
		p, ok := c.Property(name)
		if !ok {
			return nil, usageError{fmt.Sprintf("class %s has no property %s", c.Name, name)}
		}
		if p.Type.Array || p.Type.Kind == cim.Object {
			return nil, usageError{fmt.Sprintf("property %s is %v: give it in a JSON file with --file", p.Name, p.Type)}
		}
		switch {
		case p.Type.Kind.IsInteger():
			n, err := strconv.ParseInt(val, 0, 64)
			if err != nil {
				return nil, usageError{fmt.Sprintf("property %s takes an integer, not %q", p.Name, val)}
			}
			out[p.Name] = n
		case p.Type.Kind == cim.Boolean:
			b, err := strconv.ParseBool(val)
			if err != nil {
				return nil, usageError{fmt.Sprintf("property %s takes true or false, not %q", p.Name, val)}
			}
			out[p.Name] = b
		case p.Type.Kind == cim.Real32 || p.Type.Kind == cim.Real64:
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return nil, usageError{fmt.Sprintf("property %s takes a number, not %q", p.Name, val)}
			}
			out[p.Name] = f
		default:
			out[p.Name] = val
		}
	}
	return out, nil
}

func clientListOptions(sel, orderBy string, top int) client.ListOptions {
	return client.ListOptions{Select: sel, OrderBy: orderBy, Top: top}
}
