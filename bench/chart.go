package main

// Issue 24, item 13: the report's rows/s drawn as SVG bar charts, written
// next to the markdown report, which embeds them. The charts are made from
// the report's measurements (not from its markdown) by chart_svg.go.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// chart is one bar chart: a group of horizontal bars per data set (or
// --jq case), one bar per tool measured on it.
type chart struct {
	title    string
	subtitle []string // lines under the title
	unit     string   // after each value
	// tools is every tool of any group, in the order of first
	// appearance: each group has a row for each, a bar or "not measured".
	tools  []string
	groups []chartGroup
}

// chartGroup is one data set's bars.
type chartGroup struct {
	label string
	bars  []chartBar
}

// chartBar is one tool's value on one data set.
type chartBar struct {
	tool  string
	value float64
}

// add appends a group; bars whose value is not a positive number (no
// samples, a zero wall time) are left out of it, their tools then shown
// as not measured.
func (c *chart) add(label string, bars []chartBar) {
	g := chartGroup{label: label}
	for _, b := range bars {
		if !slices.Contains(c.tools, b.tool) {
			c.tools = append(c.tools, b.tool)
		}
		if b.value > 0 && !math.IsInf(b.value, 0) {
			g.bars = append(g.bars, b)
		}
	}
	c.groups = append(c.groups, g)
}

// bar returns the group's bar of tool t, if it has one.
func (g chartGroup) bar(t string) (chartBar, bool) {
	for _, b := range g.bars {
		if b.tool == t {
			return b, true
		}
	}
	return chartBar{}, false
}

// rateBars is a bar for each of tools: rows per second over its samples.
func rateBars(tools []string, rows int64, samples map[string][]sample) []chartBar {
	bars := make([]chartBar, 0, len(tools))
	for _, t := range tools {
		bars = append(bars, chartBar{t, rowsPerSecond(rows, samples[t])})
	}
	return bars
}

// rowsPerSecond is rows over the median wall time of samples; 0 without
// samples.
func rowsPerSecond(rows int64, samples []sample) float64 {
	if len(samples) == 0 {
		return 0
	}
	wall := median(walls(samples))
	if wall <= 0 {
		return 0
	}
	return float64(rows) / wall.Seconds()
}

// chartSubtitle is the lines under a chart's title: when, what kind of
// run, how the bars are scaled.
func (r *report) chartSubtitle(rounds int) []string {
	kind := "full run"
	if r.smoke {
		kind = "smoke run: tiny data, it checks the harness, not the speed"
	}
	medians := fmt.Sprintf("medians of %d rounds", rounds)
	if rounds == 1 {
		medians = "one round"
	}
	return []string{
		fmt.Sprintf("%s, %s; %s.", r.started.UTC().Format("2006-01-02 15:04 UTC"), kind, medians),
		"Longer is faster. Each group's bars share a scale, its fastest filling the width.",
	}
}

// throughputChart draws the throughput tables: rows/s of fraise and each
// peer on each data set; nil without data sets.
func (r *report) throughputChart() *chart {
	if len(r.sets) == 0 {
		return nil
	}
	c := &chart{title: "fraise and its peers: rows per second", subtitle: r.chartSubtitle(r.rounds), unit: "rows/s"}
	for _, s := range r.sets {
		c.add(fmt.Sprintf("%s (%s, %d rows)", s.d.name(), s.d.typ, s.rows), rateBars(s.tools, s.rows, s.samples))
	}
	return c
}

// jqChart draws the --jq comparison: rows in per second of fraise --jq
// and of psql | jq on each case; nil without cases (-no-jq).
func (r *report) jqChart() *chart {
	if len(r.jq) == 0 {
		return nil
	}
	c := &chart{title: "fraise --jq against psql | jq: rows per second", subtitle: r.chartSubtitle(r.jqRounds), unit: "rows/s"}
	for _, j := range r.jq {
		c.add(fmt.Sprintf("%s, --jq %s (%d rows in, %d lines out)", j.c.view, shellQuote(j.c.filter), j.rows, j.lines), rateBars(j.tools, j.rows, j.samples))
	}
	return c
}

// chartFile is a chart and the name of its file.
type chartFile struct {
	name string // base name, beside the report's
	alt  string // the image's text in the markdown
	c    *chart
}

// charts returns the report's charts, named after the report's base
// name; a section not measured has none.
func (r *report) charts(base string) []chartFile {
	var out []chartFile
	if c := r.throughputChart(); c != nil {
		out = append(out, chartFile{base + "-throughput.svg", "Rows per second of fraise and its peers on each data set", c})
	}
	if c := r.jqChart(); c != nil {
		out = append(out, chartFile{base + "-jq.svg", "Rows per second of fraise --jq and psql | jq on each filter", c})
	}
	return out
}

// image is the markdown that embeds the chart file.
func (f chartFile) image() string {
	return fmt.Sprintf("![%s](%s)", strings.NewReplacer("[", `\[`, "]", `\]`).Replace(f.alt), f.name)
}

// wellFormed reports whether data is well-formed XML with one root
// element.
func wellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	roots := 0
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("chart is not well-formed XML: %w", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 {
		return fmt.Errorf("chart has %d root elements, want 1", roots)
	}
	return nil
}
