package taskseq

import (
	"strconv"
	"strings"

	"github.com/tsprov/tsprov/internal/cim"
)

// A step's <action> is the command line the client runs. ConfigMgr derives
// it from the class's CommandLine qualifier, a template in which
//
//	%n           is the value of the property qualified CommandLineArg(n)
//	%%           is a literal %  (so %%VAR%% is %VAR%, and %%%9%% is %<arg 9>%)
//	<?n:text>    is text (itself a template) written only when argument n
//	             has a value; everything after the colon belongs to text
//
// (the custom action MOF page of the SDK, and the templates of the SDK's
// class pages). Anything else is written as it stands.

// commandLineTemplate is the CommandLine qualifier of a step class; ok is
// false when the class has none.
func commandLineTemplate(cls *cim.Class) (string, bool) {
	q, ok := cls.Qualifiers.Get("CommandLine")
	if !ok {
		return "", false
	}
	s, isString := q.Value.(string)
	return s, isString
}

// deriveCommandLine is the command line ConfigMgr writes for the step:
// its class's template expanded with the step's CommandLineArg
// properties. ok is false when the class has no template (a generic
// action, or a class whose MOF gives none).
func deriveCommandLine(in *cim.Instance) (string, bool) {
	tmpl, ok := commandLineTemplate(in.Class)
	if !ok {
		return "", false
	}
	args := classArgs.Of(in.Class) // once, not for every argument
	return expandCommandLine(tmpl, func(n int) (string, bool) { return commandLineArg(in, args, n) }), true
}

// commandLineArg is the text of argument n of a step (args is
// argPropsOf of its class): the value of the
// property qualified CommandLineArg(n), or its class default when the step
// has none (as a new WMI instance has it). An argument has no value when
// no property holds it, when the property is null without a default, or
// when its text is empty: every ConfigMgr-written step of the corpus leaves
// the optional part of an empty argument out, and writes the part of a
// false boolean (/hiddenflag:False, /runfromnet:False).
func commandLineArg(in *cim.Instance, args map[int64]*cim.Property, n int) (string, bool) {
	p, ok := args[int64(n)]
	if !ok {
		return "", false
	}
	v := in.Values[p.Name]
	if v == nil {
		v = p.Default
	}
	text := commandLineText(v)
	return text, text != ""
}

// classArgs holds argPropsOf's answer by class.
var classArgs = cim.NewClassMemo(argPropsOf)

// argPropsOf returns the properties of c qualified CommandLineArg, by
// position (the first in class order where two share one).
func argPropsOf(c *cim.Class) map[int64]*cim.Property {
	out := map[int64]*cim.Property{}
	for _, p := range c.Properties {
		if pos, ok := p.Qualifiers.Int("CommandLineArg"); ok {
			if _, seen := out[pos]; !seen {
				out[pos] = p
			}
		}
	}
	return out
}

// commandLineText writes a value into a command line: as its variable is
// written, except booleans, which ConfigMgr writes True and False there
// (.NET's Boolean.ToString; its variables hold true and false).
func commandLineText(v any) string {
	if b, ok := v.(bool); ok {
		if b {
			return "True"
		}
		return "False"
	}
	return formatText(v)
}

// expandCommandLine expands a CommandLine template; arg gives the text of
// argument n and whether it has a value.
func expandCommandLine(tmpl string, arg func(n int) (string, bool)) string {
	var b strings.Builder
	b.Grow(len(tmpl) + 64)
	for i := 0; i < len(tmpl); {
		switch {
		case strings.HasPrefix(tmpl[i:], "%%"):
			b.WriteByte('%')
			i += 2
		case tmpl[i] == '%' && i+1 < len(tmpl) && isDigit(tmpl[i+1]):
			n, width := leadingNumber(tmpl[i+1:])
			text, _ := arg(n)
			b.WriteString(text)
			i += 1 + width
		case strings.HasPrefix(tmpl[i:], "<?"):
			n, width := leadingNumber(tmpl[i+2:])
			colon := i + 2 + width
			end := strings.IndexByte(tmpl[colon:], '>')
			if width == 0 || colon >= len(tmpl) || tmpl[colon] != ':' || end < 0 {
				b.WriteString("<?") // not an optional part: written as it stands
				i += 2
				continue
			}
			if _, has := arg(n); has {
				b.WriteString(expandCommandLine(tmpl[colon+1:colon+end], arg))
			}
			i = colon + end + 1
		default:
			b.WriteByte(tmpl[i])
			i++
		}
	}
	return b.String()
}

// leadingNumber reads the decimal number s starts with and its width.
func leadingNumber(s string) (n, width int) {
	for width < len(s) && isDigit(s[width]) {
		width++
	}
	n, _ = strconv.Atoi(s[:width])
	return n, width
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// runsMDTScript reports a command line with which MDT's Deployment
// Workbench runs a built-in step through one of its scripts
// (cscript.exe "%SCRIPTROOT%\ZTIDiskpart.wsf" for Format and Partition
// Disk, ZTISetVariable.wsf for Set Task Sequence Variable, …): the script
// takes the step's settings from its variables, so the line has no
// arguments to follow.
func runsMDTScript(action string) bool {
	const prefix = `CSCRIPT.EXE "%SCRIPTROOT%\`
	if len(action) < len(prefix) && isASCII(action) {
		return false
	}
	if len(action) >= len(prefix) && isASCII(action[:len(prefix)]) {
		// what strings.ToUpper makes of an ASCII start, without upper-casing
		// (and copying) the whole line
		for i := 0; i < len(prefix); i++ {
			c := action[i]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			if c != prefix[i] {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(strings.ToUpper(action), prefix)
}
