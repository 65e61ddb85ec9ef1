package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// drawn is what a test reads back from a chart's SVG.
type drawn struct {
	width      float64
	title      string
	background bool
	bars       []drawnBar
	texts      []string // every <text>'s content, in order
}

// drawnBar is one <rect class="bar">.
type drawnBar struct{ x, width float64 }

// parseSVG walks every token of data with encoding/xml, failing the test
// on malformed XML.
func parseSVG(t *testing.T, data []byte) drawn {
	t.Helper()
	var d drawn
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	num := func(e xml.StartElement, name string) float64 {
		for _, a := range e.Attr {
			if a.Name.Local == name {
				v, err := strconv.ParseFloat(a.Value, 64)
				if err != nil {
					t.Fatalf("<%s %s=%q>: %v", e.Name.Local, name, a.Value, err)
				}
				return v
			}
		}
		t.Fatalf("<%s> has no %s", e.Name.Local, name)
		return 0
	}
	attr := func(e xml.StartElement, name string) string {
		for _, a := range e.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed: %v\n%s", err, data)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch {
			case len(stack) == 0:
				if e.Name.Local != "svg" || e.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element %v, want svg in the SVG namespace", e.Name)
				}
				d.width = num(e, "width")
			case e.Name.Local == "rect" && attr(e, "class") == "bar":
				d.bars = append(d.bars, drawnBar{num(e, "x"), num(e, "width")})
			case e.Name.Local == "rect" && attr(e, "class") == "background":
				d.background = attr(e, "fill") == chartBG && num(e, "width") == d.width
			case e.Name.Local == "text":
				d.texts = append(d.texts, "")
			}
			stack = append(stack, e.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			switch {
			case len(stack) == 2 && stack[1] == "title":
				d.title += string(e)
			case len(stack) > 0 && stack[len(stack)-1] == "text":
				d.texts[len(d.texts)-1] += string(e)
			}
		}
	}
	return d
}

func TestChartSVG(t *testing.T) {
	odd := `psql <&"'> | jq`
	tests := []struct {
		name   string
		groups []chartGroup
		tools  []string
		// bars is how many bars are drawn, missing how many rows say
		// "not measured".
		bars, missing int
		want          []string // texts that must be drawn
	}{
		{
			name: "two data sets, every tool",
			groups: []chartGroup{
				{"v_small (jsonb, 2000 rows)", []chartBar{{"fraise stream", 508680}, {"pgx v5 loop", 728181.4}, {"psql -At", 502885}}},
				{"v_medium (jsonb, 200 rows)", []chartBar{{"fraise stream", 93872}, {"pgx v5 loop", 86306}, {"psql -At", 70019}}},
			},
			bars: 6,
			want: []string{"v_small (jsonb, 2000 rows)", "fraise stream", "pgx v5 loop", "psql -At", "508,680 rows/s", "728,181 rows/s", "70,019 rows/s"},
		},
		{
			name: "a tool with no measurement on one data set",
			groups: []chartGroup{
				{"v_small", []chartBar{{"fraise stream", 5}, {"psql COPY TO STDOUT", 7.25}}},
				{"v_large", []chartBar{{"fraise stream", 2}, {"psql COPY TO STDOUT", 0}}},
			},
			bars: 3, missing: 1,
			want: []string{"5 rows/s", "7.25 rows/s", "2 rows/s", notMeasured},
		},
		{
			name: "names that XML must escape",
			groups: []chartGroup{
				{`"<v>" & 'w'`, []chartBar{{odd, 1e6}, {"fraise --jq", 3e6}}},
			},
			bars: 2,
			want: []string{`"<v>" & 'w'`, odd, "1,000,000 rows/s"},
		},
		{
			name: "nothing measured",
			want: []string{"No measurements to draw."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &chart{title: "rows <per> second", subtitle: []string{"a & b"}, unit: "rows/s"}
			for _, g := range tt.groups {
				c.add(g.label, g.bars)
			}
			svg := c.svg()
			if err := wellFormed(svg); err != nil {
				t.Fatal(err)
			}
			d := parseSVG(t, svg)
			if d.title != c.title {
				t.Errorf("<title> %q, want %q", d.title, c.title)
			}
			if !d.background {
				t.Errorf("no white background rect the size of the chart")
			}
			if len(d.bars) != tt.bars {
				t.Errorf("%d bars, want %d", len(d.bars), tt.bars)
			}
			missing := 0
			for _, s := range d.texts {
				if s == notMeasured {
					missing++
				}
			}
			if missing != tt.missing {
				t.Errorf("%d rows %q, want %d", missing, notMeasured, tt.missing)
			}
			for _, w := range tt.want {
				if !slices.Contains(d.texts, w) {
					t.Errorf("no text %q among %q", w, d.texts)
				}
			}
			checkScale(t, c, d)
		})
	}
}

// checkScale checks that every bar fits in the chart with its value
// label after it, and that each group's fastest bar fills the plot's
// width.
func checkScale(t *testing.T, c *chart, d drawn) {
	t.Helper()
	i := 0
	for _, g := range c.groups {
		longest := 0.0
		for _, bar := range g.bars {
			b := d.bars[i]
			i++
			longest = max(longest, b.width)
			if b.width <= 0 || b.x+b.width+chartGap+width(c.label(bar.value), 1) > d.width {
				t.Errorf("%s: bar at %.1f of width %.1f leaves no room for its value in a chart %.1f wide", g.label, b.x, b.width, d.width)
			}
		}
		if len(g.bars) > 0 && longest != chartPlotW {
			t.Errorf("%s: longest bar %.1f wide, want %.1f", g.label, longest, chartPlotW)
		}
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{508680.4, "508,680"},
		{1234567890, "1,234,567,890"},
		{100, "100"},
		{999.5, "1,000"},
		{99.94, "99.9"},
		{7.25, "7.25"},
		{0.5, "0.5"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.v); got != tt.want {
			t.Errorf("formatValue(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// testReport is a report with two data sets (psql -At failed to be
// sampled on the second) and, with jq, one --jq case.
func testReport(jq bool) *report {
	ms := func(d ...int) []sample {
		var out []sample
		for _, x := range d {
			out = append(out, sample{wall: time.Duration(x) * time.Millisecond})
		}
		return out
	}
	r := &report{started: time.Date(2026, 12, 7, 16, 17, 31, 0, time.UTC), rounds: 3, jqRounds: 3}
	r.sets = []*setResult{
		{d: datasets[0], rows: 1000, dataBytes: 1e5, floor: []time.Duration{time.Millisecond}, tools: []string{toolFraise, toolPgx, toolAt},
			samples: map[string][]sample{toolFraise: ms(100, 200, 300), toolPgx: ms(400, 500, 400), toolAt: ms(1000, 1000, 1000)}},
		{d: dataset{view: "v_small_json", typ: "json", tls: true}, rows: 10, dataBytes: 100, floor: []time.Duration{time.Millisecond}, tools: []string{toolFraise, toolPgx, toolAt},
			samples: map[string][]sample{toolFraise: ms(10), toolPgx: ms(20)}},
	}
	if jq {
		r.jq = []*jqResult{{c: jqCase{"v_small", "select(.age > 30) | {id, email}"}, rows: 2000, lines: 1559,
			tools:   []string{toolFraiseJQ, toolFraiseJQ1, toolPsqlJQ},
			samples: map[string][]sample{toolFraiseJQ: ms(20), toolFraiseJQ1: ms(25), toolPsqlJQ: ms(50)}}}
	}
	return r
}

func TestReportCharts(t *testing.T) {
	r := testReport(true)
	c := r.throughputChart()
	if want := []string{toolFraise, toolPgx, toolAt}; !slices.Equal(c.tools, want) {
		t.Errorf("tools %q, want %q", c.tools, want)
	}
	if len(c.groups) != 2 {
		t.Fatalf("%d groups, want 2", len(c.groups))
	}
	if g := c.groups[1]; g.label != "v_small_json over TLS (json, 10 rows)" || len(g.bars) != 2 {
		t.Errorf("second group %q with %d bars, want v_small_json over TLS with 2 (psql -At unsampled)", g.label, len(g.bars))
	}
	// 1000 rows in the median of 100, 200 and 300 ms.
	if b, _ := c.groups[0].bar(toolFraise); b.value != 5000 {
		t.Errorf("fraise on v_small: %v rows/s, want 5000", b.value)
	}
	if b, _ := r.jqChart().groups[0].bar(toolPsqlJQ); b.value != 40000 {
		t.Errorf("psql | jq: %v rows/s, want 40000", b.value)
	}
	if !bytes.Equal(c.svg(), r.throughputChart().svg()) {
		t.Errorf("two charts of the same data differ")
	}
	for _, tt := range []struct {
		r    *report
		want []string
	}{
		{r, []string{"2026-12-07T161731Z-throughput.svg", "2026-12-07T161731Z-jq.svg"}},
		{testReport(false), []string{"2026-12-07T161731Z-throughput.svg"}},
		{&report{}, nil},
	} {
		var got []string
		for _, f := range tt.r.charts("2026-12-07T161731Z") {
			got = append(got, f.name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("charts %q, want %q", got, tt.want)
		}
	}
}

func TestReportWrite(t *testing.T) {
	dir := t.TempDir()
	r := testReport(true)
	// The tables want every tool sampled, as every run that gets as far
	// as its report has.
	r.sets[1].samples[toolAt] = []sample{{wall: 40 * time.Millisecond}}
	files, err := r.write(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-12-07T161731Z.md", "2026-12-07T161731Z-throughput.svg", "2026-12-07T161731Z-jq.svg"}
	for i := range want {
		want[i] = filepath.Join(dir, want[i])
	}
	if !slices.Equal(files, want) {
		t.Fatalf("files %q, want %q", files, want)
	}
	md, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files[1:] {
		if !strings.Contains(string(md), "]("+filepath.Base(f)+")") {
			t.Errorf("the report does not embed %s:\n%s", filepath.Base(f), md)
		}
		svg, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parseSVG(t, svg)
	}
}
