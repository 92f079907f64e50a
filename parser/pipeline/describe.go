package pipeline

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tubo-pipes/tubo/parser/pipeline/ast"
)

// Info is what a pipeline file declares, for `tubo run FILE --list` and
// `--help`: its params and stages with their descriptions. It is read
// from the file's syntax alone, so it works on a file whose required
// params are not given yet.
type Info struct {
	Name        string
	Description string
	Params      []ParamInfo
	Stages      []StageInfo
}

// ParamInfo is one declared parameter.
type ParamInfo struct {
	Name, Type string
	// Default is the default as --set would take it; HasDefault is false
	// when --set must give the param.
	Default     string
	HasDefault  bool
	Min, Max    *int64
	Description string
}

// StageInfo is one declared stage.
type StageInfo struct {
	Name        string
	Description string
	// Command is the stage's run: or shell: as written, placeholders
	// and all.
	Command string
	// Copies says how the stage is copied: "×{{workers}}", "foreach
	// logs/*.log"; "" for one copy.
	Copies string
}

// Describe reads the params and stages of a pipeline file.
func Describe(path string) (*Info, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ast.Parse(data)
	if f == nil || err != nil {
		e := &errs{file: path}
		e.addAST(err)
		return nil, e.err()
	}
	info := &Info{Name: strings.TrimSuffix(baseName(path), ".yaml")}
	if f.Name != nil {
		info.Name = f.Name.Text
	}
	if f.Description != nil {
		info.Description = f.Description.Text
	}
	for _, p := range f.Params {
		pi := ParamInfo{Name: p.Name, Type: p.Type.String(), Min: p.Min, Max: p.Max, Description: p.Description}
		if p.Default != nil {
			pi.HasDefault = true
			pi.Default = valueText(p.Type, p.Default)
		}
		info.Params = append(info.Params, pi)
	}
	for _, s := range f.Stages {
		si := StageInfo{Name: s.Name}
		if s.Description != nil {
			si.Description = s.Description.Text
		}
		switch {
		case s.Shell != nil:
			si.Command = "sh: " + s.Shell.Text
		case s.Run != nil:
			var argv []string
			for _, a := range s.Run {
				argv = append(argv, a.Text)
			}
			si.Command = strings.Join(argv, " ")
		}
		switch {
		case s.Replicas != nil:
			si.Copies = "×" + s.Replicas.Text
		case s.Foreach != nil && s.Foreach.Glob != nil:
			si.Copies = "foreach " + s.Foreach.Glob.Text
		case s.Foreach != nil && s.Foreach.Param != nil:
			si.Copies = "foreach " + s.Foreach.Param.Text
		case s.Foreach != nil:
			si.Copies = "foreach " + strconv.Itoa(len(s.Foreach.Items)) + " items"
		}
		info.Stages = append(info.Stages, si)
	}
	return info, nil
}

func valueText(t ast.ParamType, v *ast.Value) string {
	switch t {
	case ast.IntParam:
		return strconv.FormatInt(v.Int, 10)
	case ast.BoolParam:
		return strconv.FormatBool(v.Bool)
	case ast.ListParam:
		return strings.Join(v.List, ",")
	}
	return v.Str
}

// WriteList writes the stages and params as aligned columns.
func (info *Info) WriteList(w io.Writer) {
	if len(info.Stages) > 0 {
		fmt.Fprintln(w, "stages:")
		rows := [][]string{}
		for _, s := range info.Stages {
			what := s.Description
			if what == "" {
				what = s.Command
			}
			rows = append(rows, []string{s.Name, s.Copies, truncate(what, 72)})
		}
		columns(w, rows)
	}
	if len(info.Params) > 0 {
		fmt.Fprintln(w, "params:")
		rows := [][]string{}
		for _, p := range info.Params {
			def := "(required)"
			if p.HasDefault {
				def = "default " + strconv.Quote(p.Default)
				if strings.Trim(p.Default, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./,") == "" && p.Default != "" {
					def = "default " + p.Default
				}
			}
			typ := p.Type
			switch {
			case p.Min != nil && p.Max != nil:
				typ += fmt.Sprintf(" %d–%d", *p.Min, *p.Max)
			case p.Min != nil:
				typ += fmt.Sprintf(" ≥ %d", *p.Min)
			case p.Max != nil:
				typ += fmt.Sprintf(" ≤ %d", *p.Max)
			}
			rows = append(rows, []string{p.Name, typ, def, p.Description})
		}
		columns(w, rows)
	}
}

// columns writes rows indented by two, each column padded to its widest
// cell (in runes), trailing blanks dropped.
func columns(w io.Writer, rows [][]string) {
	width := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 && width[i] > 0 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// readFile reads a pipeline file, refusing one over MaxFileSize first.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxFileSize {
		return nil, &ErrorList{Errors: []*Error{{Pos: posOf(path), Msg: fmt.Sprintf("file is %d bytes; pipeline files are limited to %d bytes", st.Size(), MaxFileSize)}}}
	}
	return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
}
