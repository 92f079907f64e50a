package report_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tubo-pipes/tubo/report"
)

const schemaURL = "https://github.com/tubo-pipes/tubo/docs/report.schema.json"

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// loadSchema compiles docs/report.schema.json, asserting formats such as
// date-time.
func loadSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		f, err := os.Open("../docs/report.schema.json")
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if schemaErr = c.AddResource(schemaURL, doc); schemaErr != nil {
			return
		}
		schema, schemaErr = c.Compile(schemaURL)
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schema
}

func jsonOf(t *testing.T, r *report.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// validate checks the report's JSON against the schema.
func validate(t *testing.T, r *report.Report) {
	t.Helper()
	j := jsonOf(t, r)
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	if err := loadSchema(t).Validate(inst); err != nil {
		t.Errorf("report JSON does not match the schema: %v\n%s", err, j)
	}
}

func TestSchemaRejects(t *testing.T) {
	for _, bad := range []string{
		`{}`,
		`{"schema_version": 2}`,
	} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if loadSchema(t).Validate(inst) == nil {
			t.Errorf("schema accepts %s", bad)
		}
	}
}

func TestEmptyReportValidates(t *testing.T) {
	validate(t, &report.Report{})
}

func matches(t *testing.T, got, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(got) {
		t.Errorf("got %q, want it to match %s", got, re)
	}
}
