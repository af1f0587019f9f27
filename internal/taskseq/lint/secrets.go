package lint

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// Patterns of secrets written in clear text.
var (
	// password=x, /password:x, token: x …
	secretAssign = regexp.MustCompile(`(?i)(?:^|[\s/"'-])(password|passwd|pwd|secret|clientsecret|apikey|api[-_]key|token|productkey)\s*[:=]\s*("[^"]*"|'[^']*'|[^\s"',;]+)`)
	// -Password x, /pwd x …
	secretSwitch = regexp.MustCompile(`(?i)(?:^|\s)[-/](password|passwd|pwd|pass|secret|clientsecret|apikey|token|productkey)\s+("[^"]*"|'[^']*'|[^\s"',;]+)`)
	// ConvertTo-SecureString "x" -AsPlainText
	plainSecure = regexp.MustCompile(`(?i)ConvertTo-SecureString\s+(?:-String\s+)?("[^"]*"|'[^']*')\s+-AsPlainText`)
	// net use \\server\share PASSWORD /user:NAME
	netUse = regexp.MustCompile(`(?i)\bnet(?:\.exe)?\s+use\s+(?:\S+:\s+)?\\\\\S+\s+([^\s/]\S*)\s+/user:`)
	// a Windows product key
	productKey = regexp.MustCompile(`\b[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b`)
	// a variable name that says it holds a secret
	secretName = regexp.MustCompile(`(?i)(password|passwd|pwd|secret|apikey|api_key|token|productkey|product_key|licensekey|credential)`)
)

// isReference reports a value that names a secret kept elsewhere: a task
// sequence or environment variable, a PowerShell variable or expression,
// a masked or empty value, or a word for asking (the argument's switch
// alone, "*").
func isReference(v string) bool {
	v = strings.Trim(v, `"'`)
	switch {
	case v == "", v == "*", strings.Trim(v, "*") == "":
		return true
	case strings.HasPrefix(v, "%") || strings.HasPrefix(v, "$") || strings.HasPrefix(v, "(") || strings.HasPrefix(v, "-") || strings.HasPrefix(v, "/"):
		return true
	}
	return false
}

// findSecret returns what in a command line is a secret in clear text, or
// "".
func findSecret(cmd string) string {
	for _, re := range []*regexp.Regexp{secretAssign, secretSwitch} {
		for _, m := range re.FindAllStringSubmatch(cmd, -1) {
			if !isReference(m[2]) {
				return fmt.Sprintf("%s %s", m[1], mask(m[2]))
			}
		}
	}
	if m := plainSecure.FindStringSubmatch(cmd); m != nil && !isReference(m[1]) {
		return "ConvertTo-SecureString " + mask(m[1]) + " -AsPlainText"
	}
	if m := netUse.FindStringSubmatch(cmd); m != nil && !isReference(m[1]) {
		return "net use … " + mask(m[1])
	}
	if k := productKey.FindString(cmd); k != "" {
		return "product key " + mask(k)
	}
	return ""
}

// mask keeps the first two characters of a secret, so that the finding
// does not repeat it.
func mask(s string) string {
	s = strings.Trim(s, `"'`)
	r := []rune(s)
	if len(r) <= 2 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:2]) + strings.Repeat("*", min(len(r)-2, 6))
}

// commandLines returns the command lines a step runs, by property.
func commandLines(s *step) map[string]string {
	out := map[string]string{}
	for _, name := range []string{"CommandLine", "Parameters", "Action"} {
		if v := s.in.String(name); v != "" {
			out[name] = v
		}
	}
	return out
}

func checkSecretCommandLine(l *linter) {
	r := rule("secret-in-command-line")
	for _, s := range l.steps {
		lines := commandLines(s)
		for _, name := range []string{"CommandLine", "Parameters", "Action"} {
			if what := findSecret(lines[name]); what != "" {
				l.report(r, s, "%s holds %s", name, what)
				break
			}
		}
	}
}

// plainVariable is a variable a step sets whose value anyone can read.
type plainVariable struct {
	where, name, value string
}

// plainVariables returns the variables a step writes in clear text: Set
// Task Sequence Variable without "do not display", Set Dynamic Variables
// rules' variables not marked secret, and the variables of a step no class
// describes (whose values are kept as they are written).
func plainVariables(s *step) []plainVariable {
	var out []plainVariable
	in := s.in
	switch {
	case in.Class.IsA("SMS_TaskSequence_SetVariableAction"):
		if in.Values["DoNotShowVariableValue"] != true {
			out = append(out, plainVariable{"VariableValue", in.String("VariableName"), in.String("VariableValue")})
		}
	case in.Class.IsA("SMS_TaskSequence_SetDynamicVariablesAction"):
		rules, _ := in.Values["Rules"].([]any)
		for i, r := range rules {
			ri, _ := r.(*cim.Instance)
			if ri == nil {
				continue
			}
			vars, _ := ri.Values["Variables"].([]any)
			for _, v := range vars {
				vi, _ := v.(*cim.Instance)
				if vi == nil || vi.Class.IsA("SMS_TaskSequence_SecuredVariable") {
					continue
				}
				out = append(out, plainVariable{fmt.Sprintf("Rules[%d]", i), vi.String("Name"), vi.String("Value")})
			}
		}
	case in.Class.IsA("TSPROV_GenericAction"):
		vars, _ := in.Values["Variables"].([]any)
		for _, v := range vars {
			if vi, _ := v.(*cim.Instance); vi != nil {
				out = append(out, plainVariable{"Variables", vi.String("Name"), vi.String("Value")})
			}
		}
	}
	return out
}

func checkSecretVariable(l *linter) {
	r := rule("secret-in-variable")
	for _, s := range l.steps {
		for _, v := range plainVariables(s) {
			switch {
			case isReference(v.value):
			case secretName.MatchString(v.name):
				l.report(r, s, "%s: variable %s is set in clear text to %s", v.where, v.name, mask(v.value))
			case productKey.MatchString(v.value):
				l.report(r, s, "%s: variable %s holds a product key in clear text (%s)", v.where, v.name, mask(productKey.FindString(v.value)))
			}
		}
	}
}
