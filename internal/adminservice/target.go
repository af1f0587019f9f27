package adminservice

import (
	"errors"
	"strings"

	"github.com/tsprov/tsprov/internal/errs"
)

// target is what a resource path addresses.
type target struct {
	class string
	key   string            // single key value, or "" when named
	named map[string]string // Class(K1='a',K2='b'): key property → value

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
	name, key, named, hasKey, err := splitKey(seg)
	if err != nil {
		return t, err
	}
	t.class, t.key, t.named, t.hasKey = name, key, named, hasKey
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

// splitKey reads Name, Name('KEY') (with ” for a quote), Name(123) or
// the named form Name(Key1='a',Key2='b') that compound keys need.
func splitKey(seg string) (name, key string, named map[string]string, hasKey bool, err error) {
	open := strings.IndexByte(seg, '(')
	if open < 0 {
		return seg, "", nil, false, nil
	}
	if !strings.HasSuffix(seg, ")") {
		return "", "", nil, false, errs.E(errs.Invalid, "malformed key in %q: expected Class('KEY')", seg)
	}
	name, inner := seg[:open], seg[open+1:len(seg)-1]
	parts, err := splitKeyList(inner)
	if err != nil {
		return "", "", nil, false, errs.E(errs.Invalid, "malformed key in %q: %w", seg, err)
	}
	for _, part := range parts {
		prop, val, isNamed := cutKeyName(part)
		v, err := keyValue(val)
		if err != nil {
			return "", "", nil, false, errs.E(errs.Invalid, "malformed key in %q: %w", seg, err)
		}
		if !isNamed {
			if len(parts) > 1 {
				return "", "", nil, false, errs.E(errs.Invalid, "malformed key in %q: a compound key names its properties, as Class(K1='a',K2='b')", seg)
			}
			return name, v, nil, true, nil
		}
		if named == nil {
			named = map[string]string{}
		}
		named[strings.ToLower(prop)] = v
	}
	return name, "", named, true, nil
}

// splitKeyList splits key parts at commas outside quotes.
func splitKeyList(s string) ([]string, error) {
	var parts []string
	inQuote := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if inQuote {
		return nil, errors.New("unbalanced quote (a quote inside a key is written '')")
	}
	return append(parts, s[start:]), nil
}

// cutKeyName splits Prop=value; a part without "=" outside quotes is a
// bare value.
func cutKeyName(part string) (prop, val string, named bool) {
	q := strings.IndexByte(part, '\'')
	eq := strings.IndexByte(part, '=')
	if eq < 0 || (q >= 0 && q < eq) {
		return "", part, false
	}
	return strings.TrimSpace(part[:eq]), strings.TrimSpace(part[eq+1:]), true
}

// keyValue reads 'quoted' (with ” for a quote) or a bare value.
func keyValue(v string) (string, error) {
	switch {
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		body := v[1 : len(v)-1]
		if strings.Contains(strings.ReplaceAll(body, "''", ""), "'") {
			return "", errors.New("a quote inside a key is written ''")
		}
		v = strings.ReplaceAll(body, "''", "'")
	case v != "" && !strings.ContainsAny(v, "'(),"):
	default:
		return "", errors.New("expected Class('KEY')")
	}
	if v == "" {
		return "", errors.New("empty key")
	}
	return v, nil
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
