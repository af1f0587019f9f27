package policy

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CIM types as the policy's property type attribute writes them (the
// numeric WMI CIMTYPE; arrays are the base type | 0x2000).
const (
	typeString      = 8
	typeBoolean     = 11
	typeUint32      = 19
	typeDateTime    = 101
	typeStringArray = 8200
)

// property is one property of a policy instance.
type property struct {
	name   string
	typ    int
	values []string // one for a scalar, any number for an array
	secret bool     // written obfuscated with secret="1"
}

func str(name, v string) property { return property{name: name, typ: typeString, values: []string{v}} }

func boolean(name string, v bool) property {
	return property{name: name, typ: typeBoolean, values: []string{strconv.FormatBool(v)}}
}

func uint32p(name string, v uint32) property {
	return property{name: name, typ: typeUint32, values: []string{strconv.FormatUint(uint64(v), 10)}}
}

func dateTime(name string, t time.Time) property {
	return property{name: name, typ: typeDateTime, values: []string{dmtf(t)}}
}

func strArray(name string, v []string) property {
	return property{name: name, typ: typeStringArray, values: v}
}

func secretStr(name, v string) property {
	return property{name: name, typ: typeString, values: []string{v}, secret: true}
}

// dmtf writes a time in the DMTF form WMI uses, in UTC.
func dmtf(t time.Time) string {
	return t.UTC().Format("20060102150405") + ".000000+000"
}

// instance is a WMI instance a policy carries.
type instance struct {
	class string
	props []property
}

// body writes a policy document (policies.md §2.1): the XML declaration,
// Policy, one PolicyRule without condition, a WMI-XML PolicyAction and
// the instances. seed makes the secrets' key material (see Obfuscate).
func body(id string, version int, site, ruleID string, insts []instance, secretSeed string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" ?>` + "\n")
	b.WriteString(`<Policy PolicyType="Machine" SchemaVersion="1.00" PolicyID="`)
	attr(&b, id)
	b.WriteString(`" PolicyVersion="` + versionText(version) + `" PolicySource="SMS:`)
	attr(&b, site)
	b.WriteString("\">\n<PolicyRule PolicyRuleID=\"" + ruleID + "\">\n")
	b.WriteString("<PolicyAction PolicyActionType=\"WMI-XML\">\n")
	for _, in := range insts {
		b.WriteString(`<instance class="` + in.class + "\">\n")
		for _, p := range in.props {
			b.WriteString(`<property name="` + p.name + `" type="` + strconv.Itoa(p.typ) + `"`)
			if p.secret {
				b.WriteString(` secret="1"`)
			}
			b.WriteString(">")
			for _, v := range p.values {
				if p.secret {
					v = Obfuscate(v, secretSeed+"\x00"+in.class+"\x00"+p.name)
				}
				b.WriteString("<value>")
				cdata(&b, v)
				b.WriteString("</value>")
			}
			b.WriteString("</property>\n")
		}
		b.WriteString("</instance>\n")
	}
	b.WriteString("</PolicyAction>\n</PolicyRule>\n</Policy>\n")
	return b.String()
}

// assignment writes the assignment of a policy (policies.md §4): no
// condition, one Policy with its location on the management point.
func assignment(id string, version int, category string, flags uint32, policyBody string) string {
	var b strings.Builder
	b.WriteString(`<PolicyAssignment PolicyAssignmentID="` + GUID("assignment", id, versionText(version)) + "\">\n")
	b.WriteString(`<Policy PolicyID="`)
	attr(&b, id)
	b.WriteString(`" PolicyVersion="` + versionText(version) + `" PolicyCategory="` + category +
		`" PolicyFlags="` + strconv.FormatUint(uint64(flags), 10) + "\">\n")
	b.WriteString(`<PolicyLocation PolicyHash="SHA256:` + BodyHash(policyBody) + `">`)
	cdata(&b, "http://<mp>/SMS_MP/.sms_pol?"+id+"."+locationVersion(version))
	b.WriteString("</PolicyLocation>\n</Policy>\n</PolicyAssignment>\n")
	return b.String()
}

// BodyHash is the PolicyHash an assignment gives its policy: SHA-256 of the
// body in UTF-16LE (as sites store bodies, without the byte order mark),
// upper-case hex.
func BodyHash(policyBody string) string {
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	for len(policyBody) > 0 {
		n := min(len(policyBody), 16<<10)
		for n < len(policyBody) && !utf8.RuneStart(policyBody[n]) {
			n++
		}
		buf = appendUTF16LE(buf[:0], policyBody[:n])
		h.Write(buf)
		policyBody = policyBody[n:]
	}
	return upperHex(h.Sum(nil))
}

// cdata writes s as CDATA; a "]]>" inside is split across two sections.
func cdata(b *strings.Builder, s string) {
	b.WriteString("<![CDATA[")
	b.WriteString(strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>"))
	b.WriteString("]]>")
}

// attr writes s escaped for a double-quoted attribute.
func attr(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
}

// boolText writes a boolean as the SWDReserved document does.
func boolText(v bool) string {
	if v {
		return "TRUE"
	}
	return "FALSE"
}
