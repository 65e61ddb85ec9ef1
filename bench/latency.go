package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// latencyRounds is how often each latency measurement repeats.
func (b *bench) latencyRounds() int {
	if b.smoke {
		return 1
	}
	return 4 * b.rounds
}

// latency holds one latency table: rows are cases, columns are tools.
type latency struct {
	title   string
	cases   []string
	tools   []string
	samples map[[2]string][]sample // [case, tool]
	gone    map[[2]string]time.Duration
}

func newLatency(title string) *latency {
	return &latency{title: title, samples: map[[2]string][]sample{}, gone: map[[2]string]time.Duration{}}
}

// firstRow measures the time until the first line arrives, as
// `… | head -n 1` sees it, then closes the pipe and waits until the
// server backend of the command has gone.
func (b *bench) firstRow(ctx context.Context) (*latency, error) {
	l := newLatency("Time to first row (`… | head -n 1`)")
	tools := b.pick(toolFraise, toolPgx, toolCopy, toolFetch, toolAt)
	seq := 0
	for _, view := range []string{tinyView, "v_small"} {
		l.cases = append(l.cases, view)
		for round := range b.latencyRounds() {
			for i := range tools {
				t := tools[(i+round)%len(tools)]
				seq++
				app := "fraise-bench-ttfr-" + strconv.Itoa(seq)
				s, err := b.measure(ctx, t.argv(view, -1), runOpts{env: []string{"PGAPPNAME=" + app}, stopAfterFirst: true})
				if err != nil {
					return nil, fmt.Errorf("first row, %s on %s: %w", t.name, view, err)
				}
				if s.outLines != 1 {
					return nil, fmt.Errorf("first row, %s on %s: no row arrived", t.name, view)
				}
				gone, err := b.backendGone(ctx, app)
				if err != nil {
					return nil, fmt.Errorf("after %s on %s stopped reading: %w", t.name, view, err)
				}
				k := [2]string{view, t.name}
				l.samples[k] = append(l.samples[k], s)
				l.gone[k] = max(l.gone[k], gone)
			}
		}
	}
	for _, t := range tools {
		l.tools = append(l.tools, t.name)
	}
	return l, nil
}

// backendGone waits (10 s at most) until no backend of application app is
// left, and returns how long that took after the command had exited.
func (b *bench) backendGone(ctx context.Context, app string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	err := b.srv.Await(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"+app+"'", "0")
	return time.Since(start), err
}

// connect measures a whole one-row run — process start, connection,
// authentication, query, exit — for trust and SCRAM over the socket and
// TCP.
func (b *bench) connect(ctx context.Context) (*latency, error) {
	l := newLatency("Connection setup (a one-row query, start to exit)")
	tools := b.pick(toolFraise, toolAt, toolPgx)
	cases := []struct {
		name string
		env  []string
	}{
		{"trust, socket", nil},
		{"trust, TCP", []string{"PGHOST=127.0.0.1", "PGSSLMODE=disable"}},
		{"SCRAM, socket", []string{"PGUSER=" + pgtest.RoleSCRAM, "PGPASSWORD=" + pgtest.Password(pgtest.RoleSCRAM)}},
		{"SCRAM, TCP", []string{"PGHOST=127.0.0.1", "PGSSLMODE=disable", "PGUSER=" + pgtest.RoleSCRAM, "PGPASSWORD=" + pgtest.Password(pgtest.RoleSCRAM)}},
		{"SCRAM, TCP, TLS verify-full", append(b.tlsEnv(), "PGUSER="+pgtest.RoleSCRAM, "PGPASSWORD="+pgtest.Password(pgtest.RoleSCRAM))},
	}
	for _, c := range cases {
		l.cases = append(l.cases, c.name)
		for round := range b.latencyRounds() {
			for i := range tools {
				t := tools[(i+round)%len(tools)]
				s, err := b.measure(ctx, t.argv(tinyView, 1), runOpts{env: c.env})
				if err != nil {
					return nil, fmt.Errorf("connection setup, %s (%s): %w", t.name, c.name, err)
				}
				if s.outLines != 1 {
					return nil, fmt.Errorf("connection setup, %s (%s): %d rows, want 1", t.name, c.name, s.outLines)
				}
				k := [2]string{c.name, t.name}
				l.samples[k] = append(l.samples[k], s)
			}
		}
	}
	for _, t := range tools {
		l.tools = append(l.tools, t.name)
	}
	return l, nil
}
