package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// pkg is what one package's tests did.
type pkg struct {
	name                         string
	ran, passed, failed, skipped int
	skips                        []string // "Test: reason"
	result                       string   // ok, FAIL, no test files
	output                       []string // the package's own lines
}

// summary gathers the events and prints failures as they end.
type summary struct {
	w     io.Writer
	pkgs  map[string]*pkg
	order []string
	// outputs holds each running test's lines until it ends.
	outputs map[string][]string
}

func newSummary(w io.Writer) *summary {
	return &summary{w: w, pkgs: map[string]*pkg{}, outputs: map[string][]string{}}
}

func (s *summary) pkg(name string) *pkg {
	p, ok := s.pkgs[name]
	if !ok {
		p = &pkg{name: name}
		s.pkgs[name] = p
		s.order = append(s.order, name)
	}
	return p
}

// read takes the events; a line that is not one (a build error on old Go
// versions) is printed as it is.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(s.w, sc.Text())
			continue
		}
		s.take(e)
	}
	return sc.Err()
}

func (s *summary) take(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.w, e.Output)
		return
	case "build-fail", "start":
		return
	}
	p := s.pkg(e.Package)
	key := e.Package + " " + e.Test
	if e.Test == "" {
		s.packageEvent(p, e)
		return
	}
	switch e.Action {
	case "output":
		s.outputs[key] = append(s.outputs[key], e.Output)
	case "pass":
		p.ran++
		p.passed++
		delete(s.outputs, key)
	case "skip":
		p.ran++
		p.skipped++
		p.skips = append(p.skips, e.Test+": "+skipReason(s.outputs[key]))
		delete(s.outputs, key)
	case "fail":
		p.ran++
		p.failed++
		for _, line := range s.outputs[key] {
			fmt.Fprint(s.w, line)
		}
		delete(s.outputs, key)
	}
}

func (s *summary) packageEvent(p *pkg, e event) {
	switch e.Action {
	case "output":
		p.output = append(p.output, e.Output)
	case "pass":
		p.result = "ok"
	case "skip":
		p.result = "no test files"
	case "fail":
		p.result = "FAIL"
		for _, line := range p.output {
			if !strings.HasPrefix(line, "=== ") && !strings.HasPrefix(line, "--- ") {
				fmt.Fprint(s.w, line)
			}
		}
	}
}

// skipReason is the message t.Skip printed: the last line of the test's
// output that is not go test's own.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		return l
	}
	return "(no reason given)"
}

func (s *summary) failed() bool {
	for _, p := range s.pkgs {
		if p.failed > 0 || p.result == "FAIL" || p.result == "" {
			return true
		}
	}
	return false
}

// print writes the table and the skips.
func (s *summary) print() {
	names := append([]string(nil), s.order...)
	sort.Strings(names)
	tw := tabwriter.NewWriter(s.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "package\tran\tpassed\tfailed\tskipped\tresult\t")
	var total pkg
	for _, n := range names {
		p := s.pkgs[n]
		if p.result == "no test files" {
			continue
		}
		result := p.result
		if result == "" {
			result = "FAIL (no result: killed?)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t\n", n, p.ran, p.passed, p.failed, p.skipped, result)
		total.ran, total.passed, total.failed, total.skipped = total.ran+p.ran, total.passed+p.passed, total.failed+p.failed, total.skipped+p.skipped
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t\t\n", total.ran, total.passed, total.failed, total.skipped)
	tw.Flush()
	for _, n := range names {
		for _, sk := range s.pkgs[n].skips {
			fmt.Fprintf(s.w, "skipped: %s %s\n", n, sk)
		}
	}
}
