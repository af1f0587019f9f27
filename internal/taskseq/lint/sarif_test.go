package lint

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/tsprov/tsprov/internal/golden"
	"github.com/tsprov/tsprov/internal/taskseq/taskseqtest"
)

// sarifValidator compiles the official SARIF 2.1.0 schema (testdata,
// see MANIFEST.tsv).
func sarifValidator(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SARIFSchema, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SARIFSchema)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestSARIFValidates: the SARIF log of every lint case validates against
// the SARIF 2.1.0 schema, and carries one result per finding with the
// rule's index, the level, the file and line and the step's path.
func TestSARIFValidates(t *testing.T) {
	sch := sarifValidator(t)
	c := taskseqtest.Codec(t)
	cfg := &Config{Rules: map[string]Severity{"empty-group": Off}}
	for _, tc := range lintCases {
		t.Run(tc.name, func(t *testing.T) {
			res := lintFile(t, c, tc.file, tc.pkgs, cfg)
			var b bytes.Buffer
			artifact := "sequences/" + tc.name + " copy.xml"
			if err := WriteSARIF(&b, Tool{Name: "tsprov", Version: "test"}, cfg, []Report{{Artifact: artifact, Result: res}}); err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("SARIF does not validate: %v\n%s", err, b.String())
			}
			var log struct {
				Runs []struct {
					Tool struct {
						Driver struct {
							Rules []struct {
								ID                   string
								DefaultConfiguration struct{ Enabled bool }
							}
						}
					}
					Results []struct {
						RuleID    string
						RuleIndex int
						Level     string
						Locations []struct {
							PhysicalLocation struct {
								ArtifactLocation struct{ URI string }
								Region           struct{ StartLine int }
							}
							LogicalLocations []struct{ FullyQualifiedName string }
						}
					}
				}
			}
			if err := json.Unmarshal(b.Bytes(), &log); err != nil {
				t.Fatal(err)
			}
			run := log.Runs[0]
			if len(run.Results) != len(res.Findings) {
				t.Fatalf("%d results for %d findings", len(run.Results), len(res.Findings))
			}
			for i, r := range run.Results {
				f := res.Findings[i]
				loc := r.Locations[0]
				switch {
				case run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || r.RuleID != f.Rule:
					t.Errorf("result %d: rule %s at index %d", i, r.RuleID, r.RuleIndex)
				case r.Level != f.Severity.String():
					t.Errorf("result %d: level %s, severity %s", i, r.Level, f.Severity)
				case loc.PhysicalLocation.ArtifactLocation.URI != "sequences/"+tc.name+"%20copy.xml":
					t.Errorf("result %d: uri %s", i, loc.PhysicalLocation.ArtifactLocation.URI)
				case loc.PhysicalLocation.Region.StartLine != f.Line:
					t.Errorf("result %d: line %d, finding line %d", i, loc.PhysicalLocation.Region.StartLine, f.Line)
				case f.Step != "" && loc.LogicalLocations[0].FullyQualifiedName != f.Step:
					t.Errorf("result %d: logical location %v, step %s", i, loc.LogicalLocations, f.Step)
				}
			}
			for _, r := range run.Tool.Driver.Rules {
				if r.ID == "empty-group" && r.DefaultConfiguration.Enabled {
					t.Error("empty-group is off in the configuration but enabled in the SARIF rules")
				}
			}
			if tc.name == "every-rule" {
				want := golden.Want(t, "testdata/golden/every-rule.sarif", b.Bytes())
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("SARIF differs from the golden file:\n%s", b.String())
				}
			}
		})
	}
}

// TestSARIFSchemaRejects: the validator is real: a log missing what the
// schema requires fails.
func TestSARIFSchemaRejects(t *testing.T) {
	sch := sarifValidator(t)
	for _, bad := range []string{
		`{"version": "2.1.0"}`,
		`{"version": "2.0.0", "runs": []}`,
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}`,
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}]}`,
	} {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(bad)))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err == nil {
			t.Errorf("the schema accepted %s", bad)
		}
	}
}
