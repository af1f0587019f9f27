package querytest

import (
	"strings"
	"testing"
	"time"

	"github.com/tsprov/tsprov/internal/auth/authtest"
	"github.com/tsprov/tsprov/internal/cim"
)

// fixtureRow is one instance of the fixture. The provider allocates the
// PackageID; the label names the instance in the cases.
type fixtureRow struct {
	label string
	class string // "" is SMS_TaskSequencePackage
	vals  map[string]any
}

// The task sequence packages, in two batches (A–K, then L–V) so that the
// time between them (env.mid) splits them by SourceDate.
//
//	   Name                               Description     Duration    Pri Language PkgFlags TsEn FDE IVC
//	A  Win11 Bare Metal                   x64, UEFI       90          2   en-US    0        T    F   true
//	B  win11 upgrade                      In-place        60          1   de-DE    -        F    F   -
//	C  WIN10 Legacy                       -               45          3   en-us    1<<24    T    T   false
//	D  Café Deploy                        Crème brûlée    30          -   fr-FR    1<<25    T    F   -
//	E  CAFÉ SERVER                        -               120         -   -        -        T    F   -
//	F  Straße Build                       ß               15          -   de-DE    -        T    F   -
//	G  日本 Setup                          日本語            10          2   ja-JP    -        T    F   -
//	H  Gather 100% done                   -               5           -   -        -        T    F   -
//	I  under_score                        O'Brien's       0           3   -        -        T    F   -
//	J  [bracket] name                     a]b             7           -   -        -        T    F   -
//	K  Say "hello"                        He said "hi"    8           -   -        -        T    F   -
//	L  It's quoted                        it's            9           -   -        -        T    F   -
//	M  C:\Path\To                         back\slash      11          -   -        -        T    F   -
//	N  "  padded  "                       " "             12          -   -        -        T    F   -
//	O  ""                                 ""              13          -   -        -        T    F   -
//	P  x' OR '1'='1                       -- comment      14          -   -        -        T    F   -
//	Q  Robert'); DROP TABLE students;--   /* c */         16          -   -        -        T    F   -
//	R  abc                                ABC             4294967295  1   en-GB    3<<24    T    F   -
//	S  ABD                                -               1           -   -        -        T    F   -
//	T  a%b_c                              %_              2           -   -        -        T    F   -
//	U  Zeta                               zeta            0           2   de-de    -        F    T   -
//	V  aXbYc                              -               3           -   -        -        T    F   -
//
// (- is null, sent as null where the class has a default; Pri Priority, FDE ForcedDisconnectEnabled, IVC
// IsVersionCompatible, TsEn TsEnabled.) Description is null for C E H S
// V; Language for E H I J K L M N O P Q S T V; Priority for D E F H J K
// L M N O P Q S T V; both Description and Language for E H S V.
//
// Lazy properties: CustomProgressMsg is "Installing Windows 11" (A),
// "INSTALLING legacy" (C), "日本語のインストール" (G), "" (I), null
// elsewhere; Category is "OSD" (B), "osd" (C), "" (the default)
// elsewhere.
var tsBatch1 = []fixtureRow{
	{label: "A", vals: map[string]any{"Name": "Win11 Bare Metal", "Description": "x64, UEFI", "Duration": int64(90), "Priority": int64(2), "Language": "en-US", "PkgFlags": int64(0), "IsVersionCompatible": true, "CustomProgressMsg": "Installing Windows 11"}},
	{label: "B", vals: map[string]any{"Name": "win11 upgrade", "Description": "In-place", "Duration": int64(60), "Priority": int64(1), "Language": "de-DE", "TsEnabled": false, "Category": "OSD"}},
	{label: "C", vals: map[string]any{"Name": "WIN10 Legacy", "Duration": int64(45), "Priority": int64(3), "Language": "en-us", "PkgFlags": int64(1 << 24), "ForcedDisconnectEnabled": true, "IsVersionCompatible": false, "CustomProgressMsg": "INSTALLING legacy", "Category": "osd"}},
	{label: "D", vals: map[string]any{"Priority": nil, "Name": "Café Deploy", "Description": "Crème brûlée", "Duration": int64(30), "Language": "fr-FR", "PkgFlags": int64(1 << 25)}},
	{label: "E", vals: map[string]any{"Priority": nil, "Name": "CAFÉ SERVER", "Duration": int64(120)}},
	{label: "F", vals: map[string]any{"Priority": nil, "Name": "Straße Build", "Description": "ß", "Duration": int64(15), "Language": "de-DE"}},
	{label: "G", vals: map[string]any{"Name": "日本 Setup", "Description": "日本語", "Duration": int64(10), "Priority": int64(2), "Language": "ja-JP", "CustomProgressMsg": "日本語のインストール"}},
	{label: "H", vals: map[string]any{"Priority": nil, "Name": "Gather 100% done", "Duration": int64(5)}},
	{label: "I", vals: map[string]any{"Name": "under_score", "Description": "O'Brien's", "Duration": int64(0), "Priority": int64(3), "CustomProgressMsg": ""}},
	{label: "J", vals: map[string]any{"Priority": nil, "Name": "[bracket] name", "Description": "a]b", "Duration": int64(7)}},
	{label: "K", vals: map[string]any{"Priority": nil, "Name": `Say "hello"`, "Description": `He said "hi"`, "Duration": int64(8)}},
}

var tsBatch2 = []fixtureRow{
	{label: "L", vals: map[string]any{"Priority": nil, "Name": "It's quoted", "Description": "it's", "Duration": int64(9)}},
	{label: "M", vals: map[string]any{"Priority": nil, "Name": `C:\Path\To`, "Description": `back\slash`, "Duration": int64(11)}},
	{label: "N", vals: map[string]any{"Priority": nil, "Name": "  padded  ", "Description": " ", "Duration": int64(12)}},
	{label: "O", vals: map[string]any{"Priority": nil, "Name": "", "Description": "", "Duration": int64(13)}},
	{label: "P", vals: map[string]any{"Priority": nil, "Name": "x' OR '1'='1", "Description": "-- comment", "Duration": int64(14)}},
	{label: "Q", vals: map[string]any{"Priority": nil, "Name": "Robert'); DROP TABLE students;--", "Description": "/* c */", "Duration": int64(16)}},
	{label: "R", vals: map[string]any{"Name": "abc", "Description": "ABC", "Duration": int64(4294967295), "Priority": int64(1), "Language": "en-GB", "PkgFlags": int64(3 << 24)}},
	{label: "S", vals: map[string]any{"Priority": nil, "Name": "ABD", "Duration": int64(1)}},
	{label: "T", vals: map[string]any{"Priority": nil, "Name": "a%b_c", "Description": "%_", "Duration": int64(2)}},
	{label: "U", vals: map[string]any{"Name": "Zeta", "Description": "zeta", "Duration": int64(0), "Priority": int64(2), "Language": "de-de", "TsEnabled": false, "ForcedDisconnectEnabled": true}},
	{label: "V", vals: map[string]any{"Priority": nil, "Name": "aXbYc", "Duration": int64(3)}},
}

// The SMS_Package instances: a writable DateTime (TransformAnalysisDate)
// with offsets, fractions and DMTF's unknown offset, and a signed integer
// (DefaultImageFlags).
//
//	P1 null                                    0
//	P2 2025-12-31T23:59:59Z                    -5
//	P3 2026-01-01T00:00:00Z                    2
//	P4 2026-01-01T00:00:00.5Z                  -2147483648
//	P5 2026-06-15T12:00:00+02:00 (10:00Z)      2147483647
//	P6 2027-01-01T00:00:00-05:00 (05:00Z)      null
//	P7 20260301000000.000000+*** (as UTC)      0
var pkgRows = []fixtureRow{
	{label: "P1", class: "SMS_Package", vals: map[string]any{"Name": "dt-null", "DefaultImageFlags": int64(0)}},
	{label: "P2", class: "SMS_Package", vals: map[string]any{"Name": "dt-2025", "TransformAnalysisDate": dt("2025-12-31T23:59:59Z"), "DefaultImageFlags": int64(-5)}},
	{label: "P3", class: "SMS_Package", vals: map[string]any{"Name": "dt-2026", "TransformAnalysisDate": dt("2026-01-01T00:00:00Z"), "DefaultImageFlags": int64(2)}},
	{label: "P4", class: "SMS_Package", vals: map[string]any{"Name": "dt-frac", "TransformAnalysisDate": dt("2026-01-01T00:00:00.5Z"), "DefaultImageFlags": int64(-2147483648)}},
	{label: "P5", class: "SMS_Package", vals: map[string]any{"Name": "dt-june", "TransformAnalysisDate": dt("2026-06-15T12:00:00+02:00"), "DefaultImageFlags": int64(2147483647)}},
	{label: "P6", class: "SMS_Package", vals: map[string]any{"Name": "dt-2027", "TransformAnalysisDate": dt("2027-01-01T00:00:00-05:00"), "DefaultImageFlags": nil}},
	{label: "P7", class: "SMS_Package", vals: map[string]any{"Name": "dt-unknown", "TransformAnalysisDate": dt("20260301000000.000000+***"), "DefaultImageFlags": int64(0)}},
}

func dt(s string) cim.DateTimeValue {
	d, err := cim.ParseDateTime(s)
	if err != nil {
		panic(err)
	}
	return d
}

// now is the current time at the precision DateTime values keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// build creates the fixture through the provider.
func (e *env) build(t *testing.T) {
	t.Helper()
	e.names = map[string]string{}
	e.sourceDate = map[string]time.Time{}
	pause := func() { time.Sleep(2 * time.Millisecond) }
	e.before = now()
	pause()
	e.create(t, tsBatch1)
	pause()
	e.mid = now()
	pause()
	e.create(t, tsBatch2)
	pause()
	e.after = now()
	e.create(t, pkgRows)
}

func (e *env) create(t *testing.T, rows []fixtureRow) {
	t.Helper()
	for _, r := range rows {
		className := r.class
		if className == "" {
			className = tsClass
		}
		c, ok := e.reg.Class(className)
		if !ok {
			t.Fatalf("fixture: no class %s", className)
		}
		in := cim.NewInstance(c)
		for k, v := range r.vals {
			in.Set(k, v)
		}
		obj, err := e.prov.Create(authtest.Context(), in)
		if err != nil {
			t.Fatalf("fixture %s: Create: %v", r.label, err)
		}
		key := obj.Instance.Key()
		e.ids[r.label] = key
		e.labels[strings.ToLower(key)] = r.label
		e.names[r.label] = obj.Instance.String("Name")
		lc := strings.ToLower(c.Name)
		e.byClass[lc] = append(e.byClass[lc], r.label)
		if v, ok := obj.Instance.Get("SourceDate"); ok {
			if d, ok := v.(cim.DateTimeValue); ok {
				e.sourceDate[r.label] = d.Time
			}
		}
		for k, v := range r.vals {
			if got, _ := obj.Instance.Get(k); !cim.Equal(got, v) {
				t.Fatalf("fixture %s: %s reads back as %v, not %v", r.label, k, got, v)
			}
		}
	}
}
