package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/tubo-pipes/tubo/plan"
)

func pipelineFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../pipelines/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no pipelines/*.yaml: %v", err)
	}
	return files
}

// Every shipped pipeline loads, validates and plans; with bin/ built, its
// programs are found too.
func TestShippedPipelinesLoad(t *testing.T) {
	_, err := os.Stat("../../bin/esclavo")
	skip := err != nil
	for _, f := range pipelineFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			g, err := Load(f, Options{SkipLookup: skip})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := plan.Build(g, plan.Options{Self: "/bin/true"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("../../docs/tubo.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("tubo.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("tubo.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlToJSON turns a YAML document into the values a JSON decoder makes.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jsonValue(v))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// jsonValue makes YAML's map[any]any (from keys like 4 in fds:) into
// map[string]any, as JSON has only string keys.
func jsonValue(v any) any {
	switch v := v.(type) {
	case map[any]any:
		m := map[string]any{}
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonValue(x)
		}
		return m
	case map[string]any:
		for k, x := range v {
			v[k] = jsonValue(x)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = jsonValue(x)
		}
		return v
	}
	return v
}

func TestSchemaAcceptsShippedPipelines(t *testing.T) {
	s := compileSchema(t)
	files := pipelineFiles(t)
	more, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, f := range append(files, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(yamlToJSON(t, data)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestSchemaRefusesBadShapes(t *testing.T) {
	s := compileSchema(t)
	for _, src := range []string{
		"name: x\n",
		"stages: {a: {run: [x], replica: 2}}\n",
		"stages: {a: {run: [x], shell: y}}\n",
		"stages: {a: {}}\n",
		"stages: {a: {run: [x]}}\nmerges: {m: {mode: orderd}}\n",
		"stages: {a: {run: [x]}}\non_failure: kill\n",
		"stages: {a: {run: [x], fds: {1: b}}}\n",
		"stages: {'a.b': {run: [x]}}\n",
		"stages: {a: {run: [x]}}\nedges: [a b]\n",
		"version: 2\nstages: {a: {run: [x]}}\n",
	} {
		if err := s.Validate(yamlToJSON(t, []byte(src))); err == nil {
			t.Errorf("schema accepts %q", src)
		}
	}
}
