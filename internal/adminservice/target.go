package adminservice

import (
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// target is what a resource path addresses.
type target struct {
	class  string
	key    string
	hasKey bool
	count  bool   // .../Class/$count
	method string // static Class.Method or bound .../AdminService.Method
}

// actionPrefix introduces a bound action segment.
const actionPrefix = "AdminService."

// parseTarget reads the one to three path segments after the route:
//
//	Class                    collection
//	Class.Method             static method
//	Class('KEY') | Class(KEY) instance
//	Class/KEY                instance (key as segment)
//	Class/$count             count
//	<instance>/AdminService.Method   instance method
func parseTarget(seg, sub, op string) (target, error) {
	var t target
	name, key, hasKey, err := splitKey(seg)
	if err != nil {
		return t, err
	}
	t.class, t.key, t.hasKey = name, key, hasKey
	if !hasKey {
		if cls, m, ok := strings.Cut(name, "."); ok {
			if sub != "" {
				return t, errNoRoute(seg + "/" + sub)
			}
			t.class, t.method = cls, m
			return t, validName(t.class)
		}
	}
	if err := validName(t.class); err != nil {
		return t, err
	}
	rest := []string{}
	for _, s := range []string{sub, op} {
		if s != "" {
			rest = append(rest, s)
		}
	}
	if len(rest) > 0 && !t.hasKey {
		switch {
		case rest[0] == "$count" && len(rest) == 1:
			t.count = true
			return t, nil
		case hasActionPrefix(rest[0]):
			return t, errs.E(errs.Invalid, "%s is bound to an instance: address one, as %s('<key>')/%s", rest[0], t.class, rest[0])
		}
		if rest[0] == "" {
			return t, errs.E(errs.Invalid, "empty key")
		}
		t.key, t.hasKey = rest[0], true
		rest = rest[1:]
	}
	switch len(rest) {
	case 0:
		return t, nil
	case 1:
		if hasActionPrefix(rest[0]) {
			t.method = rest[0][len(actionPrefix):]
			return t, nil
		}
	}
	return t, errNoRoute(strings.Join(append([]string{seg}, rest...), "/"))
}

func hasActionPrefix(s string) bool {
	return len(s) > len(actionPrefix) && strings.EqualFold(s[:len(actionPrefix)], actionPrefix)
}

// splitKey reads Name, Name('KEY') (with '' for a quote) or Name(123).
func splitKey(seg string) (name, key string, hasKey bool, err error) {
	open := strings.IndexByte(seg, '(')
	if open < 0 {
		return seg, "", false, nil
	}
	if !strings.HasSuffix(seg, ")") {
		return "", "", false, errs.E(errs.Invalid, "malformed key in %q: expected Class('KEY')", seg)
	}
	name, inner := seg[:open], seg[open+1:len(seg)-1]
	if strings.HasPrefix(inner, "PackageID=") || strings.Contains(inner, "=") {
		// Class(Prop='KEY') — the named form; one key property only.
		_, inner, _ = strings.Cut(inner, "=")
	}
	switch {
	case len(inner) >= 2 && inner[0] == '\'' && inner[len(inner)-1] == '\'':
		body := inner[1 : len(inner)-1]
		if strings.Count(body, "'")%2 != 0 || strings.Contains(strings.ReplaceAll(body, "''", ""), "'") {
			return "", "", false, errs.E(errs.Invalid, "malformed key in %q: a quote inside a key is written ''", seg)
		}
		key = strings.ReplaceAll(body, "''", "'")
	case inner != "" && !strings.ContainsAny(inner, "'(),"):
		key = inner
	default:
		return "", "", false, errs.E(errs.Invalid, "malformed key in %q: expected Class('KEY')", seg)
	}
	if key == "" {
		return "", "", false, errs.E(errs.Invalid, "empty key in %q", seg)
	}
	return name, key, true, nil
}

func validName(s string) error {
	if s == "" {
		return errs.E(errs.Invalid, "missing class name")
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return errs.Target(errs.NotFound, s, "unknown class %s", s)
		}
	}
	return nil
}

func errNoRoute(path string) error {
	return errs.E(errs.NotFound, "no resource at %q", path)
}
