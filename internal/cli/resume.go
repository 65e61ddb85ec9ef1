package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/pflag"
)

// A resumable run (--resume, issue 23): the output is written as sealed
// segments (output.Segments) beside -o FILE, each ending after a row
// whose --order-by key is recorded; a run that ends early keeps them, and
// the next run of the same command continues after the last sealed key
// (query.Resume), then publishes their concatenation as FILE. The key's
// order is checked as the rows come (resumeSink): a key that is not
// unique stops the run before a segment could lose or repeat rows.

// addResumeFlag declares --resume, shown as --resume[=continue].
func addResumeFlag(f *pflag.FlagSet) {
	f.Var(new(resumeValue), "resume", "write -o FILE as sealed segments that a later run of the same command continues after a cut (needs --order-by on a unique key); =restart discards an earlier run's")
	f.Lookup("resume").NoOptDefVal = "continue"
}

// resumeValue is --resume's value: a string, whose type pflag does not
// print, so that the help reads --resume[=continue].
type resumeValue struct{ v string }

func (r *resumeValue) Set(s string) error { r.v = s; return nil }
func (r *resumeValue) String() string     { return r.v }
func (r *resumeValue) Type() string       { return "" }

// beforePublish, when set, is called once a resumable output is recorded
// complete, before it is published (tests: a run stopped there).
var beforePublish func()

// resumeOptions are a resumable run's settings and state.
type resumeOptions struct {
	restart bool
	keys    []query.OrderKey
	id      output.Identity
	// userParams are the --param values, before pushdown adds its own.
	userParams []string

	// kinds say how the client checks each key item's order; nil: the
	// server checks it (query.Resume.Check).
	kinds []keyKind

	seg *output.Segments // once opened
	// final seals what the run wrote since the last seal, given the lines
	// written in all; set by whoever streams.
	final func(lines int64) error
}

// parseResume reads --resume: nil when it is not given or off.
func parseResume(s *settings, o *streamOptions) (*resumeOptions, error) {
	r := &resumeOptions{}
	switch v := strings.ToLower(s.str("resume")); v {
	case "", "off", "false", "no", "0":
		return nil, nil
	case "on", "true", "yes", "1":
	default:
		if !isChoice("resume", v) {
			return nil, &usageError{fmt.Errorf("--resume takes no value (continue), or =restart, got %q", s.str("resume"))}
		}
		r.restart = v == "restart"
	}
	switch {
	case o.out.path == "":
		return nil, &usageError{errors.New("--resume needs -o FILE: the sealed segments are kept beside it until the run completes; standard output cannot be taken back and continued")}
	case o.spec.Limit >= 0 || o.spec.Offset > 0:
		return nil, &usageError{errors.New("--resume cannot continue a run with --limit or --offset: they count rows of one snapshot; leave them out, and narrow the rows with --where")}
	}
	if strings.TrimSpace(o.spec.OrderBy) == "" {
		return nil, &usageError{errors.New("--resume needs --order-by: the unique key the export continues after, such as --order-by id")}
	}
	keys, err := query.ResumeKeys(o.spec.OrderBy)
	if err != nil {
		return nil, err
	}
	if o.parallel > 1 && !query.SameExpr(o.split.key, keys[0].Expr) {
		return nil, &usageError{fmt.Errorf("--resume with --parallel needs the ranges split by the first --order-by expression (%q), not %q: leave --split-by out, or give it that expression", keys[0].Expr, o.split.key)}
	}
	r.keys, r.userParams, r.id = keys, o.params, resumeIdentity(s, o)
	return r, nil
}

// resumeIdentity is what decides a run's bytes, readable and as a
// digest: a resumed run must be the same command.
func resumeIdentity(s *settings, o *streamOptions) output.Identity {
	list := func(v []string) string {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // "id > 0" stays readable
		_ = enc.Encode(v)
		return strings.TrimSuffix(b.String(), "\n")
	}
	vals := map[string]string{
		"relation": o.spec.Relation.String(), "column": o.spec.Column,
		"where": list(o.spec.Where), "order-by": o.spec.OrderBy, "param": list(o.params),
		"format": o.out.format, "compress": o.out.comp.String(),
		// The database, not the host: a run may go on from a standby or
		// a new primary of the same database.
		"database": o.conn.Database,
	}
	if o.jq != nil {
		vals["jq"] = s.str("jq")
		vals["arg"] = list(s.strs("arg"))
		vals["argjson"] = list(s.strs("argjson"))
		vals["raw-output"] = strconv.FormatBool(o.jq.raw)
		vals["on-jq-error"] = strings.ToLower(s.str("on-jq-error"))
	}
	b, _ := json.Marshal(vals) // keys sorted
	sum := sha256.Sum256(b)
	return output.Identity{Hash: hex.EncodeToString(sum[:]), Values: vals}
}

// open opens the resumable output: an earlier run's sealed segments, or
// none. It is done before connecting, as -o's file is.
func (r *resumeOptions) open(path string, comp output.Compression, log *slog.Logger) error {
	seg, err := output.OpenSegments(path, comp, r.id, r.restart, output.Run{})
	if err != nil {
		return err
	}
	r.seg = seg
	sealed := seg.Sealed()
	if len(sealed) == 0 {
		log.Info("resumable output", "directory", output.ResumeDir(path), "sealed_segments", 0)
		return nil
	}
	var rows int64
	for _, s := range sealed {
		rows += s.Rows
	}
	log.Info("resuming output", "directory", output.ResumeDir(path), "sealed_segments", len(sealed), "rows", rows,
		"after_key", strings.Join(sealed[len(sealed)-1].LastKey, ", "))
	return nil
}

// lines are the lines of the sealed segments.
func (r *resumeOptions) lines() int64 {
	var n int64
	for _, s := range r.seg.Sealed() {
		n += s.Lines
	}
	return n
}

// prepare makes o's statement resumable, once connected (q): it selects
// the key, checked by the client where its text can be compared (see
// keyKinds), else by the server, and continues after the last sealed key,
// cast to the types the server names for the key's items, bound after
// the user's parameters (before pushdown's: prepare comes first).
func (r *resumeOptions) prepare(ctx context.Context, q queryFunc, o *streamOptions, server string) error {
	var after []string
	if sealed := r.seg.Sealed(); len(sealed) > 0 {
		after = sealed[len(sealed)-1].LastKey
	}
	at, err := r.prepareAfter(ctx, q, o, after)
	if err != nil {
		return err
	}
	r.seg.SetRun(output.Run{Server: server, Snapshot: at})
	return nil
}

// prepareAfter makes o's statement resumable after the key after (none:
// from the start), and returns the server's time.
func (r *resumeOptions) prepareAfter(ctx context.Context, q queryFunc, o *streamOptions, after []string) (string, error) {
	kt, err := r.keyTypes(ctx, q, o.spec, after != nil)
	if err != nil {
		return "", err
	}
	if err := r.checkSettings(kt); err != nil {
		return "", err
	}
	r.kinds = keyKinds(kt.types, kt.deterministic)
	res := &query.Resume{Check: r.kinds == nil}
	if after != nil {
		res.After, res.Types = len(o.params)+1, kt.types
	}
	spec := o.spec
	spec.Resume = res
	stmt, err := query.Build(spec)
	if err != nil {
		return "", err
	}
	o.spec, o.stmt = spec, stmt
	o.params = append(o.params[:len(o.params):len(o.params)], after...)
	return kt.at, nil
}

// explain makes o's statement the one a resumable run would stream now:
// after the last key an earlier run sealed, if there is one (read only:
// --explain changes nothing).
func (r *resumeOptions) explain(ctx context.Context, q queryFunc, o *streamOptions) error {
	after, err := output.LastSealedKey(o.out.path, r.id)
	if err != nil {
		return err
	}
	_, err = r.prepareAfter(ctx, q, o, after)
	return err
}

// keyTypes is what the server says of the key (query.BuildKeyTypes).
type keyTypes struct {
	types []string
	// at is the server's time, as the run begins.
	at string
	// deterministic: every collation is, so that equal strings have
	// equal bytes.
	deterministic bool
	// settings are the session's query.KeySettings.
	settings map[string]string
}

// keyTypes asks the server for the types of the key's items.
// With nulls (a resumed run), it asks too whether a row has a NULL key,
// which the keyset would skip: that is the error the first run would
// have stopped at.
func (r *resumeOptions) keyTypes(ctx context.Context, q queryFunc, spec query.Spec, nulls bool) (keyTypes, error) {
	var kt keyTypes
	st, err := query.BuildKeyTypes(spec, nulls)
	if err != nil {
		return kt, err
	}
	n, cols := len(r.keys), len(r.keys)+3
	if nulls {
		cols++
	}
	var null bool
	err = q(ctx, st.SQL, r.userParams, func(v [][]byte) error {
		if len(v) != cols || slices.ContainsFunc(v[:n], func(t []byte) bool { return t == nil }) {
			return fmt.Errorf("the server named %d types for %d --order-by expressions", len(v)-(cols-n), n)
		}
		kt.types = texts(v[:n])
		kt.at, kt.deterministic = string(v[n]), string(v[n+1]) == "t"
		null = nulls && string(v[n+3]) == "t"
		return json.Unmarshal(v[n+2], &kt.settings)
	})
	if err == nil && kt.types == nil {
		err = errors.New("the server named no types")
	}
	if err != nil {
		return kt, fmt.Errorf("--resume: cannot learn the types of the --order-by key: %w", err)
	}
	if null {
		return kt, &resumeKeyError{null: true}
	}
	return kt, nil
}

// started records this run's snapshot time, as its first row says.
func (r *resumeOptions) started(server string) func(string) {
	return func(at string) { r.seg.SetRun(output.Run{Server: server, Snapshot: at}) }
}

// sink returns the resumable sink over inner, writing w (through the jq
// pipeline p, if any) into the segments.
func (r *resumeOptions) sink(inner wire.RowSink, w *output.NDJSON, p *filter.Pipeline, server string) *resumeSink {
	rs := newResumeSink(inner, w, p, r.seg, len(r.keys))
	rs.kinds, rs.desc = r.kinds, r.keys[0].Desc
	rs.onStart = r.started(server)
	r.final = rs.sealAt
	return rs
}

// publish ends a resumable output once the rows are done, as publish
// does a plain one: the last segment sealed, then the segments published
// as one file; a failed run keeps the sealed ones for the next.
func (r *resumeOptions) publish(run *wire.Stop, w *output.NDJSON, array bool, log *slog.Logger, err error) (halted, _ error) {
	var he *filter.HaltError
	if errors.As(err, &he) && he.Code == 0 {
		halted, err = err, nil
	}
	if err == nil {
		err = w.Flush()
	}
	err = finishOutput(run, w, err)
	if err == nil && r.final != nil {
		err = r.final(w.Rows())
	}
	if err == nil {
		// Every seal recorded: the lines are counted, and a kill from
		// here on finds a complete output to publish, not more to read.
		err = r.seg.Complete()
	}
	if err == nil && beforePublish != nil {
		beforePublish()
	}
	if err == nil {
		err = r.publishComplete(array, log)
	}
	if err != nil {
		r.seg.Abandon()
		return halted, err
	}
	return halted, nil
}

// publishComplete publishes the output once every segment is sealed, the
// end of an array after them.
func (r *resumeOptions) publishComplete(array bool, log *slog.Logger) error {
	var tail []byte
	if array {
		tail = []byte(output.ArrayEnd(r.lines() > 0))
	}
	if err := r.seg.Publish(tail); err != nil {
		return err
	}
	log.Info("output file complete", "path", r.seg.Final(), "segments", len(r.seg.Sealed()), "runs", r.describeRuns())
	return nil
}

// describeRuns says which rows came from which run, and its snapshot.
func (r *resumeOptions) describeRuns() string {
	var parts []string
	for i, run := range r.runStats() {
		parts = append(parts, fmt.Sprintf("run %d: %d rows, snapshot %s", i+1, run.Rows, run.Snapshot))
	}
	return strings.Join(parts, "; ")
}

// resumeRun is one run's part of a resumable output, for --stats.
type resumeRun struct {
	Rows     int64  `json:"rows"`
	Lines    int64  `json:"lines"`
	Snapshot string `json:"snapshot"`
	Server   string `json:"server_version,omitempty"`
}

// runStats are the rows and lines each run sealed, with its snapshot
// time: the runs that sealed none are left out.
func (r *resumeOptions) runStats() []resumeRun {
	runs := r.seg.Runs()
	byRun := make([]resumeRun, len(runs))
	for _, s := range r.seg.Sealed() {
		byRun[s.Run].Rows += s.Rows
		byRun[s.Run].Lines += s.Lines
	}
	var out []resumeRun
	for i, run := range runs {
		if byRun[i].Rows == 0 && i != len(runs)-1 {
			continue
		}
		byRun[i].Snapshot, byRun[i].Server = run.Snapshot, run.Server
		out = append(out, byRun[i])
	}
	return out
}

// resumeLine is --stats' account of a resumable output.
type resumeLine struct {
	// Segments are the sealed segments, Runs the runs that sealed them
	// (this one last), each with its rows and snapshot time.
	Segments int         `json:"segments"`
	Runs     []resumeRun `json:"runs"`
}

func (r *resumeOptions) summary() *resumeLine {
	return &resumeLine{Segments: len(r.seg.Sealed()), Runs: r.runStats()}
}
