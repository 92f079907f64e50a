// Package web is the browser side of tubo's live view (--ui, package live)
// and of its HTML run report (--report-html): one script and one style
// sheet, built from src/ by esbuild into dist/ and embedded, so that the
// tubo binary needs no network and no Node to serve or write them.
//
// The script draws the graph with Graphviz compiled to WebAssembly
// (@viz-js/viz), from the DOT that package render makes. Rebuild dist/
// with `make web` after changing src/ or package.json; the test checks
// that dist/ is what the sources build to.
package web

import (
	"crypto/sha256"
	_ "embed" // the assets
	"encoding/base64"
	"regexp"
	"sync"
)

// The embedded files. They stay in the binary's read-only data (nothing
// copies them at start), so that tubo's memory, which every child shares
// until its exec, does not grow by them.
var (
	//go:embed dist/tubo.js
	Script []byte
	//go:embed dist/tubo.css
	Style []byte
	//go:embed live.html
	LivePage []byte // the live view's loader
)

// LiveCSP is the Content-Security-Policy of every answer of the live
// view: scripts only from the server itself (and the loader, by its
// hash), WebAssembly for Graphviz, connections only back to the server;
// nothing from any other host.
//
// It is computed on first use (a hash of the loader's script): only a
// run with --ui serves the live view.
var LiveCSP = sync.OnceValue(func() string {
	return "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' " + scriptHash(LivePage) +
		"; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
})

// ReportCSP is the Content-Security-Policy of the HTML report: its own
// inline script, style and WebAssembly, and no connection to anything.
const ReportCSP = "default-src 'none'; script-src 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

// scriptHash is the CSP source of the inline script of page.
func scriptHash(page []byte) string {
	m := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindSubmatch(page)
	if m == nil {
		return ""
	}
	sum := sha256.Sum256(m[1])
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
