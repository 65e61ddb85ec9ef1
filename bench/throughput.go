package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// setResult is the throughput of every tool on one data set.
type setResult struct {
	d         dataset
	rows      int64
	dataBytes int64 // sum of the values' text sizes
	floor     []time.Duration
	tools     []string
	samples   map[string][]sample
}

// throughput streams one data set with every tool, alternately, after a
// warm-up run of each that also fills the caches.
func (b *bench) throughput(ctx context.Context, d dataset) (*setResult, error) {
	r := &setResult{d: d}
	rows, size, _, err := b.floorQuery(ctx, d.view)
	if err != nil {
		return nil, err
	}
	r.rows, r.dataBytes = rows, size
	tools := b.tools()
	for _, t := range tools {
		r.tools = append(r.tools, t.name)
	}
	var opts runOpts
	if d.tls {
		opts.env = b.tlsEnv()
	}
	b.logf("%s: %d rows, %.1f MB; warming up", d.name(), rows, float64(size)/1e6)
	argv, byName := map[string][]string{}, map[string]tool{}
	for _, t := range tools {
		argv[t.name], byName[t.name] = t.argv(d.view, -1), t
	}
	r.samples, err = b.alternate(ctx, d.name(), r.tools, argv, opts, b.rounds,
		func() error {
			_, _, fl, err := b.floorQuery(ctx, d.view)
			r.floor = append(r.floor, fl)
			return err
		},
		func(n string, s sample) error { return r.check(byName[n], s) })
	if err != nil {
		return nil, err
	}
	return r, nil
}

// alternate runs every command once to warm up, then rounds times,
// alternating, the order rotating between rounds; before runs at the
// start of each round, check on every run's output.
func (b *bench) alternate(ctx context.Context, label string, names []string, argv map[string][]string, opts runOpts, rounds int,
	before func() error, check func(name string, s sample) error) (map[string][]sample, error) {
	samples := map[string][]sample{}
	for _, n := range names {
		s, err := b.measure(ctx, argv[n], opts)
		if err != nil {
			return nil, err
		}
		if err := check(n, s); err != nil {
			return nil, err
		}
	}
	for round := range rounds {
		if before != nil {
			if err := before(); err != nil {
				return nil, err
			}
		}
		for i := range names {
			n := names[(i+round)%len(names)] // rotate who goes first
			s, err := b.measure(ctx, argv[n], opts)
			if err != nil {
				return nil, err
			}
			if err := check(n, s); err != nil {
				return nil, err
			}
			samples[n] = append(samples[n], s)
		}
		b.logf("%s: round %d/%d done", label, round+1, rounds)
	}
	return samples, nil
}

// check verifies one run's output: one line per row, and for raw-value
// commands exactly the values' bytes plus a newline each.
func (r *setResult) check(t tool, s sample) error {
	if s.outLines != r.rows {
		return fmt.Errorf("%s wrote %d lines, want %d", t.name, s.outLines, r.rows)
	}
	if t.raw && s.outBytes != r.dataBytes+r.rows {
		return fmt.Errorf("%s wrote %d bytes, want %d", t.name, s.outBytes, r.dataBytes+r.rows)
	}
	return nil
}

// floorQuery has the server produce every value's text without sending
// it: the time no client can beat. It returns the row count, the values'
// total size and the wall time of the psql run.
func (b *bench) floorQuery(ctx context.Context, view string) (rows, size int64, wall time.Duration, err error) {
	start := time.Now()
	out, err := b.srv.Psql(ctx, "SELECT count(*), coalesce(sum(octet_length(data::text)), 0) FROM "+view)
	wall = time.Since(start)
	if err != nil {
		return 0, 0, 0, err
	}
	f := strings.Split(strings.TrimSpace(out), "|")
	if len(f) != 2 {
		return 0, 0, 0, fmt.Errorf("floor query: unexpected output %q", out)
	}
	rows, err1 := strconv.ParseInt(f[0], 10, 64)
	size, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, 0, fmt.Errorf("floor query: unexpected output %q", out)
	}
	return rows, size, wall, nil
}

// selected returns the data sets named in only (comma-separated), or all.
func selected(only string) ([]dataset, error) {
	if only == "" {
		return datasets, nil
	}
	var out []dataset
next:
	for _, v := range strings.Split(only, ",") {
		for _, d := range datasets {
			if strings.TrimSpace(v) == d.view {
				out = append(out, d)
				continue next
			}
		}
		return nil, fmt.Errorf("-only: no data set %q; the data sets are v_small, v_medium, v_large, v_small_json and v_medium_json", v)
	}
	return out, nil
}
