package web_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tubo-pipes/tubo/web"
)

// dist/ is what src/ builds to: the committed bundle is rebuilt with the
// locked esbuild and compared byte for byte. It needs `npm ci` in web/
// (make web, or .ci/run).
func TestDistIsBuiltFromSources(t *testing.T) {
	if _, err := os.Stat("node_modules/esbuild"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("web/node_modules is missing: .ci/run must run npm ci in web/")
		}
		t.Skip("web/node_modules is missing (cd web && npm ci): cannot rebuild the bundle")
	}
	dir := t.TempDir()
	cmd := exec.Command("node", "build.mjs", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node build.mjs: %v\n%s", err, out)
	}
	for _, f := range []string{"tubo.js", "tubo.css"} {
		got, _ := os.ReadFile(filepath.Join(dir, f))
		if !bytes.Equal(got, mustRead(t, "dist/"+f)) {
			t.Errorf("dist/%s is not what src/ builds to: run make web and commit dist/", f)
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The report inlines the script and the style in the page: neither may
// end its element early.
func TestAssetsInline(t *testing.T) {
	if bytes.Contains(bytes.ToLower(web.Script), []byte("</script")) {
		t.Error("the script holds </script")
	}
	if bytes.Contains(bytes.ToLower(web.Style), []byte("</style")) {
		t.Error("the style sheet holds </style")
	}
	if len(web.Script) < 100000 {
		t.Errorf("the script is %d bytes: Graphviz is not in it", len(web.Script))
	}
}

// The loader is allowed by the policy by its hash, and nothing else
// inline is.
func TestLoaderHash(t *testing.T) {
	if !strings.Contains(web.LiveCSP(), "'sha256-") || strings.Contains(web.LiveCSP(), "unsafe-inline") {
		t.Errorf("CSP %q", web.LiveCSP())
	}
}
