package report

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"time"

	"github.com/tubo-pipes/tubo/web"
)

// HTML writes the reports of a run's pipelines (one for `tubo run`, one
// per pipeline of a shell line) as one self-contained HTML page: for each
// pipeline its graph, coloured by how each stage ended, the table of
// stages (status, wall, CPU, RSS, bytes), the builtins and the edges with
// the basis of each count, a timeline of when each stage ran, and the
// parameters. The data is the JSON report itself, embedded in the page;
// the page's script and style are embedded too, so it opens with no
// network, and its Content-Security-Policy lets it load nothing.
func HTML(w io.Writer, title string, reps ...*Report) error {
	type run struct {
		Report  json.RawMessage `json:"report"`
		Drawing *web.Drawing    `json:"drawing"`
	}
	data := struct {
		Title   string `json:"title"`
		Written string `json:"written"`
		Runs    []run  `json:"runs"`
	}{Title: title, Written: time.Now().UTC().Format(time.RFC3339), Runs: []run{}}
	for _, r := range reps {
		var doc bytes.Buffer
		if err := JSON(&doc, r); err != nil {
			return err
		}
		rn := run{Report: doc.Bytes()}
		if r.g != nil {
			d := web.Draw(r.g)
			rn.Drawing = &d
		}
		data.Runs = append(data.Runs, rn)
	}
	// json.Marshal escapes <, > and &, so no "</script>" can end the
	// data early.
	js, err := json.Marshal(data)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="` + web.ReportCSP + `">
<meta name="generator" content="tubo">
<title>tubo report · ` + html.EscapeString(title) + `</title>
<style>
`)
	b.Write(web.Style)
	b.WriteString("</style>\n</head>\n<body data-mode=\"report\">\n<script type=\"application/json\" id=\"tubo-report\">")
	b.Write(js)
	b.WriteString("</script>\n<script>\n")
	b.Write(web.Script)
	b.WriteString("</script>\n</body>\n</html>\n")
	_, err = w.Write(b.Bytes())
	return err
}
