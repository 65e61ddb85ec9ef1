package main

// The SVG of a chart, by hand: readable on GitHub's light and dark themes
// (its own white background), no scripts, no fonts but the generic
// families, every bar labelled with its tool and value so that colour is
// never the only cue, and the same bytes for the same data.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The layout, in pixels. Widths of text are estimated generously from
// its characters: tool names and values are monospace (0.6 em a
// character), headings sans-serif, which is narrower.
const (
	chartMargin = 16.0
	chartFont   = 12.0 // tool names, values, subtitle
	chartCharW  = 7.4  // one monospace character at chartFont, with room to spare
	chartTitleF = 16.0
	chartHeadF  = 13.0
	chartBarH   = 16.0
	chartRowH   = 22.0
	chartHeadH  = 30.0 // a group's heading, above its bars
	chartPlotW  = 360.0
	chartGap    = 8.0
)

// Colours: dark text on the chart's own white background; fraise's
// commands in reds, its peers in other hues.
const (
	chartBG    = "#ffffff"
	chartInk   = "#1f2328"
	chartMuted = "#57606a"
)

var (
	fraiseColors = []string{"#c2185b", "#8e1142", "#e0527f", "#a8466e"}
	peerColors   = []string{"#1f6fb4", "#2e7d4f", "#6b6b6b", "#b35c00", "#6a4c93", "#0e7c86"}
)

// colors returns each tool's colour, by its place in c.tools.
func (c *chart) colors() map[string]string {
	m := map[string]string{}
	nf, np := 0, 0
	for _, t := range c.tools {
		if strings.HasPrefix(t, "fraise") {
			m[t] = fraiseColors[nf%len(fraiseColors)]
			nf++
		} else {
			m[t] = peerColors[np%len(peerColors)]
			np++
		}
	}
	return m
}

// notMeasured labels a group's row for a tool without a bar there.
const notMeasured = "not measured"

// formatValue writes v with thousands separators, or with three
// significant digits below 100.
func formatValue(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// label is a bar's value as drawn: the number and the unit.
func (c *chart) label(v float64) string { return formatValue(v) + " " + c.unit }

// esc escapes s for XML text; characters XML cannot hold become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// px formats a coordinate.
func px(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// width estimates text's width at chartFont in monospace; scale adjusts
// it to another size.
func width(s string, scale float64) float64 {
	return float64(utf8.RuneCountInString(s)) * chartCharW * scale
}

// svg draws the chart. Without groups it is a valid chart saying there
// was nothing to draw (the report writes no file then).
func (c *chart) svg() []byte {
	labelW, valueW := 0.0, width(notMeasured, 1)
	for _, t := range c.tools {
		labelW = max(labelW, width(t, 1))
	}
	for _, g := range c.groups {
		for _, b := range g.bars {
			valueW = max(valueW, width(c.label(b.value), 1))
		}
	}
	x0 := chartMargin + labelW + chartGap // where bars start
	w := x0 + chartPlotW + chartGap + valueW + chartMargin
	w = max(w, 2*chartMargin+width(c.title, chartTitleF/chartFont))
	for _, s := range c.subtitle {
		w = max(w, 2*chartMargin+width(s, 1))
	}
	for _, g := range c.groups {
		w = max(w, 2*chartMargin+width(g.label, chartHeadF/chartFont))
	}
	w = math.Ceil(w)

	var body bytes.Buffer
	y := chartMargin + chartTitleF
	fmt.Fprintf(&body, "<text x=\"%s\" y=\"%s\" font-size=\"%g\" font-weight=\"bold\">%s</text>\n", px(chartMargin), px(y), chartTitleF, esc(c.title))
	for _, s := range c.subtitle {
		y += chartFont + 6
		fmt.Fprintf(&body, "<text x=\"%s\" y=\"%s\" fill=\"%s\">%s</text>\n", px(chartMargin), px(y), chartMuted, esc(s))
	}
	if len(c.groups) == 0 {
		y += chartHeadH
		fmt.Fprintf(&body, "<text x=\"%s\" y=\"%s\" font-size=\"%g\">No measurements to draw.</text>\n", px(chartMargin), px(y), chartHeadF)
	}
	colors := c.colors()
	for _, g := range c.groups {
		y += chartHeadH
		fmt.Fprintf(&body, "<g>\n<text x=\"%s\" y=\"%s\" font-size=\"%g\" font-weight=\"bold\">%s</text>\n", px(chartMargin), px(y), chartHeadF, esc(g.label))
		y += 6
		top := 0.0
		for _, b := range g.bars {
			top = max(top, b.value)
		}
		for _, t := range c.tools {
			c.row(&body, g, t, y, x0, top, colors[t])
			y += chartRowH
		}
		body.WriteString("</g>\n")
	}
	h := math.Ceil(y + chartMargin)

	var out bytes.Buffer
	fmt.Fprintf(&out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%s\" height=\"%s\" viewBox=\"0 0 %s %s\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" font-family=\"sans-serif\" font-size=\"%g\" fill=\"%s\">\n",
		px(w), px(h), px(w), px(h), chartFont, chartInk)
	fmt.Fprintf(&out, "<title id=\"chart-title\">%s</title>\n<desc id=\"chart-desc\">%s</desc>\n", esc(c.title), esc(c.describe()))
	fmt.Fprintf(&out, "<rect class=\"background\" x=\"0\" y=\"0\" width=\"%s\" height=\"%s\" fill=\"%s\"/>\n", px(w), px(h), chartBG)
	out.Write(body.Bytes())
	out.WriteString("</svg>\n")
	return out.Bytes()
}

// row draws tool t's row of group g, its top at y: the tool's name, its
// bar scaled so that the group's top value fills chartPlotW, and the
// value; or the name and "not measured".
func (c *chart) row(w *bytes.Buffer, g chartGroup, t string, y, x0, top float64, color string) {
	ty := px(y + chartBarH - 4) // text baseline, level with the bar
	b, ok := g.bar(t)
	if !ok {
		fmt.Fprintf(w, "<g>\n<title>%s</title>\n<text x=\"%s\" y=\"%s\" text-anchor=\"end\" font-family=\"monospace\" fill=\"%s\">%s</text>\n<text x=\"%s\" y=\"%s\" font-family=\"monospace\" font-style=\"italic\" fill=\"%s\">%s</text>\n</g>\n",
			esc(t+": "+notMeasured), px(x0-chartGap), ty, chartMuted, esc(t), px(x0), ty, chartMuted, notMeasured)
		return
	}
	bw := max(b.value/top*chartPlotW, 1)
	fmt.Fprintf(w, "<g>\n<title>%s</title>\n<text x=\"%s\" y=\"%s\" text-anchor=\"end\" font-family=\"monospace\">%s</text>\n<rect class=\"bar\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"/>\n<text x=\"%s\" y=\"%s\" font-family=\"monospace\">%s</text>\n</g>\n",
		esc(t+": "+c.label(b.value)), px(x0-chartGap), ty, esc(t), px(x0), px(y), px(bw), px(chartBarH), color, px(x0+bw+chartGap), ty, esc(c.label(b.value)))
}

// describe is the chart's values as text, for readers that cannot see
// it.
func (c *chart) describe() string {
	var b strings.Builder
	b.WriteString(strings.Join(c.subtitle, " "))
	for _, g := range c.groups {
		fmt.Fprintf(&b, " %s:", g.label)
		for i, t := range c.tools {
			if i > 0 {
				b.WriteString(";")
			}
			v := notMeasured
			if bar, ok := g.bar(t); ok {
				v = c.label(bar.value)
			}
			fmt.Fprintf(&b, " %s %s", t, v)
		}
		b.WriteString(".")
	}
	return strings.TrimSpace(b.String())
}
