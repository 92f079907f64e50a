package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// rssTargetKiB is the ceiling for tubo's own peak RSS.
const rssTargetKiB = 16 << 10

func report(w io.Writer, b *bench, info [][2]string, outs []outcome, rss *rssResult, scale []*scaleCase, took time.Duration) {
	fmt.Fprintf(w, "\n### Machine\n\n| | |\n|---|---|\n")
	for _, kv := range info {
		fmt.Fprintf(w, "| %s | %s |\n", kv[0], strings.ReplaceAll(kv[1], "|", "\\|"))
	}
	fmt.Fprintf(w, "\nRuns per side: %d (start-up case %d), alternating tubo/other after one unmeasured warm-up each; harness wall time %s.\n",
		b.n, 4*b.n, took.Round(time.Second))

	fmt.Fprintf(w, "\n### Results\n\nSpeed-up = other's median wall time ÷ tubo's, so > 1 means tubo is faster.\n\n")
	fmt.Fprintf(w, "| case | tubo median | other median | speed-up | target | met? | notes |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|\n")
	for _, o := range outs {
		p := o.p
		if o.err != nil {
			fmt.Fprintf(w, "| %s | — | — | — | %s | ERROR | %s |\n", cell(p.name), cell(p.goal), cell(o.err.Error()))
			continue
		}
		tm, om := median(o.tubo), median(o.other)
		su := speedup(tm, om)
		met := "—"
		if p.target > 0 {
			met = verdict(su, p.target)
		}
		if p.maxHWM > 0 && slices.Max(o.rss) > p.maxHWM || p.maxThreads > 0 && slices.Max(o.threads) > p.maxThreads {
			met = "MISSED (threads or RSS; see notes)"
		}
		tlo, thi := spread(o.tubo)
		olo, ohi := spread(o.other)
		notes := fmt.Sprintf("tubo %s–%s; %s %s–%s", fmtDur(tlo), fmtDur(thi), p.other.label, fmtDur(olo), fmtDur(ohi))
		if p.bytes > 0 {
			notes += fmt.Sprintf("; %.0f vs %.0f MiB/s", throughput(p.bytes, tm), throughput(p.bytes, om))
		}
		if p.cpu {
			tc, oc := median(o.tuboCPU), median(o.otherCPU)
			notes += fmt.Sprintf("; CPU here and on the host, median: tubo %s, %s %s (%.2f×)", fmtDur(tc), p.other.label, fmtDur(oc), speedup(tc, oc))
		}
		notes += "; tubo VmHWM " + fmtKiB(slices.Max(o.rss))
		if p.maxHWM > 0 {
			notes += fmt.Sprintf(" (≤ %s: %s)", fmtKiB(p.maxHWM), metIf(slices.Max(o.rss) <= p.maxHWM))
		}
		if p.maxThreads > 0 {
			notes += fmt.Sprintf("; tubo threads max %d (≤ %d: %s)", slices.Max(o.threads), p.maxThreads, metIf(slices.Max(o.threads) <= p.maxThreads))
		}
		fmt.Fprintf(w, "| %s | %s | %s: %s | %.2f× | %s | %s | %s |\n",
			cell(p.name), fmtDur(tm), p.other.label, fmtDur(om), su, cell(p.goal), met, cell(notes))
	}
	if rss != nil {
		if rss.err != nil {
			fmt.Fprintf(w, "| tubo peak RSS, 100-stage line | — | — | — | ≤ 16 MiB | ERROR | %s |\n", cell(rss.err.Error()))
		} else {
			peak := max(slices.Max(rss.maxrss), slices.Max(rss.hwm))
			met := "met"
			if peak > rssTargetKiB {
				met = fmt.Sprintf("MISSED (%.0f%% over)", 100*float64(peak-rssTargetKiB)/rssTargetKiB)
			}
			fmt.Fprintf(w, "| tubo peak RSS, 100-stage line (max of %d runs) | %s | — | — | ≤ 16 MiB | %s | ru_maxrss via a %s probe: median %s; tubo's VmHWM polled from /proc: max %s, median %s; ru_maxrss when started by this harness directly: %s (inherits the harness's RSS, see text) |\n",
				len(rss.maxrss), fmtKiB(peak), met, fmtKiB(rss.probeHWM), fmtKiB(medianInt(rss.maxrss)), fmtKiB(slices.Max(rss.hwm)), fmtKiB(medianInt(rss.hwm)), fmtKiB(rss.direct))
		}
	}
	for _, c := range scale {
		if c.err != nil {
			fmt.Fprintf(w, "| %s | — | — | — | correct output | ERROR | %s |\n", cell(c.name), cell(c.err.Error()))
			continue
		}
		var ds []time.Duration
		var rs []int64
		for _, s := range c.runs {
			ds = append(ds, s.wall)
			rs = append(rs, s.hwm)
		}
		lo, hi := spread(ds)
		fmt.Fprintf(w, "| %s | %s | — | — | correct output | ok | %s–%s over %d runs; tubo VmHWM %s |\n",
			cell(c.name), fmtDur(median(ds)), fmtDur(lo), fmtDur(hi), len(ds), fmtKiB(slices.Max(rs)))
	}
}

func metIf(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func medianInt(v []int64) int64 {
	ds := make([]time.Duration, len(v))
	for i, x := range v {
		ds[i] = time.Duration(x)
	}
	return int64(median(ds))
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}
