package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// svg draws latest.svg: for every figure, how mullet compares with
// redis-server, as a bar from the 1× line on a log2 scale, to the right
// when mullet is better (faster, lower latency, less memory), to the left
// when it is worse. The scale is log2 so that "twice as fast" and "half as
// fast" are bars of the same length. Hand-written SVG: no chart module.
func (r *report) svg() string {
	const (
		width   = 960
		labelW  = 430 // figure names
		rowH    = 20
		top0    = 58
		span    = 3.0 // log2 range each side: 1/8× to 8×
		chartL  = labelW + 20
		chartR  = width - 90
		fontCSS = "font-family:Helvetica,Arial,sans-serif;font-size:12px"
	)
	x := func(perf float64) float64 {
		l := math.Max(-span, math.Min(span, math.Log2(perf)))
		return chartL + (l+span)/(2*span)*(chartR-chartL)
	}
	rows := 0
	top := top0 + len(r.caveats)*16
	section := ""
	for _, f := range r.figs {
		if f.section != section {
			section = f.section
			rows++
		}
		rows++
	}
	height := top + rows*rowH + 40

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" style="%s">`+"\n", width, height, width, height, fontCSS)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	title := fmt.Sprintf("mullet relative to redis-server 7.0 (median of %d round(s), %s)", r.cfg.Rounds, r.env.date)
	if r.cfg.Quick {
		title = "BENCH_QUICK smoke run, meaningless numbers"
	}
	fmt.Fprintf(&b, `<text x="10" y="20" style="font-size:15px;font-weight:bold">%s</text>`+"\n", esc(title))
	fmt.Fprintf(&b, `<text x="10" y="38" fill="#555">right of the 1× line: mullet better (more throughput, less latency, memory or load time); left: worse. log scale</text>`+"\n")

	for i, c := range r.caveats {
		fmt.Fprintf(&b, `<text x="10" y="%d" fill="#b00020">%s</text>`+"\n", 56+16*i, esc("Caveat: "+strings.ReplaceAll(c, "`", "")))
	}

	// Axis: ticks at powers of two, the 1× line stronger.
	axisBottom := top + rows*rowH
	for p := -span; p <= span; p++ {
		xp := x(math.Exp2(p))
		stroke, w := "#dddddd", 1
		if p == 0 {
			stroke, w = "#333333", 2
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="%d"/>`+"\n", xp, top-6, xp, axisBottom, stroke, w)
		label := strconv.FormatFloat(math.Exp2(p), 'g', 3, 64) + "×"
		if p < 0 {
			label = "1/" + strconv.Itoa(int(math.Exp2(-p))) + "×"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", xp, axisBottom+16, label)
	}

	y := top
	section = ""
	for _, f := range r.figs {
		if f.section != section {
			section = f.section
			fmt.Fprintf(&b, `<text x="10" y="%d" style="font-weight:bold">%s</text>`+"\n", y+14, esc(shortSection(section)))
			y += rowH
		}
		fmt.Fprintf(&b, `<text x="24" y="%d">%s</text>`+"\n", y+14, esc(f.name))
		ratio, ok := f.ratio()
		if !ok {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#999">n/a</text>`+"\n", x(1)+6, y+14)
			y += rowH
			continue
		}
		perf := ratio
		if !f.higher {
			perf = 1 / ratio
		}
		x0, x1 := x(1), x(perf)
		color := "#2a9d8f"
		if perf < 1 {
			color = "#e76f51"
			x0, x1 = x1, x0
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", x0, y+4, math.Max(x1-x0, 1), rowH-8, color)
		text := strconv.FormatFloat(ratio, 'f', 2, 64) + "× " + f.unit
		tx, anchor := x(perf)+6, "start"
		if perf < 1 {
			tx, anchor = x(perf)-6, "end"
		}
		if perf >= math.Exp2(span)*0.7 {
			tx, anchor = chartR+4, "start"
			text = strconv.FormatFloat(ratio, 'f', 2, 64) + "×"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s" fill="#333">%s</text>`+"\n", tx, y+14, anchor, esc(text))
		y += rowH
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }
