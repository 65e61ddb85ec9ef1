package pushdown

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
)

// The harness of the differential tests: a database with the generated
// documents, the statements with and without pushdown, and the filter
// run over both row sets.

func TestMain(m *testing.M) { os.Exit(pgtest.RunMain(m)) }

// icuDatabase is the database whose default collation is ICU en-US.
const icuDatabase = "fraise_icu"

// fixtureSeed seeds the generated documents of the fixed corpus.
const fixtureSeed = 20261207

// docRows is the number of generated rows of pd_docs, besides the ~140 fixed ones.
const docRows = 60

// jsonOnlyDocs are documents jsonb refuses (a \u0000, lone surrogates) or
// changes (duplicate keys), for a json column only.
var jsonOnlyDocs = []string{
	`{"a": 1, "a": "x"}`, `{"a": "x", "a": 1}`, `{"a": {"b": 1, "b": "z"}, "b": 2}`, `{"b": 1, "a": null, "a": 2}`,
	`{"a": "\u0000"}`, `{"a": "\ud800", "b": 1}`, `{"a": 1, "b": "\udc00x"}`, `{"a": "\u00e9", "b": "f"}`,
	`{"a": "x\u0000y", "b": {"c": 1}}`, `{"a": {"b": "\ud83d"}, "c": {"d": 2}}`, `{"a": 2, "b": "é"}`,
	`["\u0000"]`, `"\ud800"`, `{"k-1": 1, "k-1": null}`,
}

// fixtureSQL creates pd_docs (json and jsonb columns, the same documents)
// and pd_json (json only) and lets every role read them.
func fixtureSQL() string {
	r := rand.New(rand.NewSource(fixtureSeed))
	docs := append([]string{}, nonObjectRoots...)
	docs = append(docs, "", "")
	for _, v := range scalarPool {
		docs = append(docs, `{"a": `+v+`}`, `{"a": {"b": `+v+`}, "c": `+v+`}`, `{"b": {"c": `+v+`}, "k-1": `+v+`}`)
	}
	for range docRows {
		docs = append(docs, genDoc(r))
	}
	var b strings.Builder
	b.WriteString("DROP TABLE IF EXISTS pd_docs, pd_json;\n")
	b.WriteString("CREATE TABLE pd_docs (id int PRIMARY KEY, j json, b jsonb);\n")
	b.WriteString("CREATE TABLE pd_json (id int PRIMARY KEY, j json);\n")
	b.WriteString("INSERT INTO pd_docs SELECT id, t::json, t::jsonb FROM (VALUES\n")
	for i, d := range docs {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "(%d, %s)", i+1, sqlText(d))
	}
	b.WriteString(") v(id, t);\nINSERT INTO pd_json SELECT id, t::json FROM (VALUES\n")
	json := append(append([]string{}, jsonOnlyDocs...), docs[:60]...)
	for i, d := range json {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "(%d, %s)", i+1, sqlText(d))
	}
	b.WriteString(") v(id, t);\nGRANT SELECT ON pd_docs, pd_json TO PUBLIC;\n")
	return b.String()
}

// sqlText quotes a document as an SQL literal of type text; "" is NULL.
func sqlText(d string) string {
	if d == "" {
		return "NULL::text"
	}
	return "'" + strings.ReplaceAll(d, "'", "''") + "'::text"
}

// db is a database the differential runs in, with the fixtures loaded.
type db struct {
	name string
	cfg  *wire.Config
	conn *wire.Conn
	full map[string]rowSet // the rows without pushdown, by table and column
}

var (
	dbsMu sync.Mutex
	dbs   = map[string]*db{}
)

// openDB returns the database name (pgtest.Database or icuDatabase) with
// the fixtures, creating it the first time; the ICU one skips the test
// when the server cannot have it.
func openDB(t *testing.T, name string) *db {
	t.Helper()
	srv := pgtest.Require(t)
	dbsMu.Lock()
	defer dbsMu.Unlock()
	if d, ok := dbs[name]; ok {
		return d
	}
	ctx := context.Background()
	args := []string{"-d", name}
	if name == icuDatabase {
		if srv.Major < 15 {
			t.Skipf("ICU default collations need PostgreSQL 15 or later; the server is %d", srv.Major)
		}
		_, err := srv.Psql(ctx, "DROP DATABASE IF EXISTS "+icuDatabase+";\nCREATE DATABASE "+icuDatabase+
			" LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C' TEMPLATE template0 ENCODING 'UTF8';\n"+
			"GRANT CONNECT ON DATABASE "+icuDatabase+" TO "+pgtest.RoleTrust+";")
		if err != nil && strings.Contains(err.Error(), "ICU is not supported") {
			t.Skipf("the server is built without ICU: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.Psql(ctx, fixtureSQL(), args...); err != nil {
		t.Fatal(err)
	}
	conninfo := strings.Replace(srv.ConnString(pgtest.RoleTrust, false), "dbname="+pgtest.Database, "dbname="+name, 1)
	home := t.TempDir()
	cfg, err := wire.ParseConfig(conninfo, wire.Environment{
		LookupEnv: func(string) (string, bool) { return "", false },
		Username:  func() (string, error) { return "nobody-in-particular", nil },
		HomeDir:   func() (string, error) { return home, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	d := &db{name: name, cfg: cfg, full: map[string]rowSet{}}
	dbs[name] = d
	return d
}

// rowSet is the rows a statement gave: each document (nil for NULL) and
// its id; with dropped, a NULL is a row the narrowing dropped.
type rowSet struct {
	docs    [][]byte
	ids     []int
	dropped bool
}

// query runs sql, whose last column is the row's id, and returns the rows.
// A failed statement's connection is closed; the next query opens another.
func (d *db) query(sql string, params []string) (rowSet, error) {
	ctx := context.Background()
	if d.conn == nil {
		c, err := wire.Connect(ctx, d.cfg)
		if err != nil {
			return rowSet{}, err
		}
		d.conn = c
	}
	var rs rowSet
	err := d.conn.QueryText(ctx, sql, params, func(v [][]byte) error {
		id, err := strconv.Atoi(string(v[1]))
		if v[0] != nil {
			rs.docs = append(rs.docs, bytes.Clone(v[0]))
		} else {
			rs.docs = append(rs.docs, nil)
		}
		rs.ids = append(rs.ids, id)
		return err
	})
	if err != nil {
		d.conn.Close()
		d.conn = nil
	}
	return rs, err
}

// statement is the statement fraise sends for table and column with the
// narrowing n (nil: none), the row's id selected after the column, and
// its parameters: the user's WHERE binds $1, the narrowing's follow.
func statement(table, column string, n *query.Narrowing, params []string) (string, []string, error) {
	st, err := query.Build(query.Spec{
		Relation: query.Relation{Name: table}, Column: column, Where: []string{"id >= $1::int"},
		OrderBy: "id", Limit: -1, Narrowing: n,
	})
	if err != nil {
		return "", nil, err
	}
	i := strings.Index(st.SQL, "\nFROM ")
	if i < 0 {
		return "", nil, errors.New("no FROM in " + st.SQL)
	}
	return st.SQL[:i] + ", id" + st.SQL[i:], append([]string{"0"}, params...), nil
}

// outcome is what the filter made of a row set: the output, and the
// failing rows' ids and messages.
type outcome struct {
	out   string
	skips []string
}

// run runs f over rs as fraise does with --on-jq-error skip.
func run(f *filter.Filter, rs rowSet) (outcome, error) {
	var o outcome
	var buf lines
	var bad error
	p := filter.NewPipeline(context.Background(), f, &buf, filter.PipelineOptions{
		Workers: 1, MaxRows: 8, Policy: filter.Skip, NullDropped: rs.dropped,
		OnSkip: func(row int64, msg string) {
			if row < 1 || row > int64(len(rs.ids)) {
				bad = fmt.Errorf("skip of row %d out of %d", row, len(rs.ids))
				return
			}
			o.skips = append(o.skips, fmt.Sprintf("id %d: %s", rs.ids[row-1], msg))
		},
	})
	for _, d := range rs.docs {
		if err := p.Write(d); err != nil {
			p.Abort()
			return o, err
		}
	}
	if err := p.Close(); err != nil {
		return o, err
	}
	o.out = buf.String()
	return o, bad
}

// lines is a LineWriter that keeps what it is given.
type lines struct{ bytes.Buffer }

func (l *lines) WriteLines(p []byte, _ int) error { _, err := l.Write(p); return err }
func (l *lines) Flush() error                     { return nil }

func (o outcome) equal(p outcome) bool {
	return o.out == p.out && strings.Join(o.skips, "\n") == strings.Join(p.skips, "\n")
}

// column is a column the differential reads.
type column struct {
	table, name string
	jsonb       bool
}

var (
	docsJSON  = column{"pd_docs", "j", false}
	docsJSONB = column{"pd_docs", "b", true}
	jsonOnly  = column{"pd_json", "j", false}
)

// verdict is the differential's finding for one expression and column.
type verdict struct {
	diff    string   // "" when the outputs and errors are the same
	pushed  bool     // a select condition was written
	dropped int      // rows the narrowed statement sent as dropped
	out     string   // the output without pushdown
	skips   []string // the failing rows without pushdown
}

// differential runs expr over the column's rows without and with
// pushdown and compares the outputs and the failing rows. A statement the
// server refuses, or a failure of the harness, is an error.
func differential(d *db, c column, expr string, vars []filter.Var, cache bool) (verdict, error) {
	f, err := filter.Compile(expr, filter.Options{Vars: vars})
	if err != nil {
		return verdict{}, err
	}
	key := c.table + "." + c.name
	full, ok := d.full[key]
	if !ok || !cache {
		sql, params, err := statement(c.table, c.name, nil, nil)
		if err != nil {
			return verdict{}, err
		}
		if full, err = d.query(sql, params); err != nil {
			return verdict{}, err
		}
		if cache {
			d.full[key] = full
		}
	}
	n, params, _ := Analyze(f).Render(Target{Column: c.name, JSONB: c.jsonb, UTF8: true, FirstParam: 2})
	var v verdict
	narrowed := full
	if n != nil {
		v.pushed = n.DropsRows
		sql, all, err := statement(c.table, c.name, n, params)
		if err != nil {
			return v, err
		}
		if narrowed, err = d.query(sql, all); err != nil {
			return v, fmt.Errorf("the narrowed statement failed: %w\n%s\nparams %q", err, sql, all)
		}
		narrowed.dropped = n.DropsRows
		if !slices.Equal(narrowed.ids, full.ids) {
			return v, fmt.Errorf("the narrowed statement sent rows %v, not every row %v", narrowed.ids, full.ids)
		}
		for _, doc := range narrowed.docs {
			if doc == nil && n.DropsRows {
				v.dropped++
			}
		}
	}
	want, err := run(f, full)
	if err != nil {
		return v, err
	}
	v.out, v.skips = want.out, want.skips
	got, err := run(f, narrowed)
	if err != nil {
		return v, err
	}
	if !want.equal(got) {
		v.diff = firstDifference(f, full, narrowed)
	}
	return v, nil
}

// firstDifference finds the first row whose outcome pushdown changed.
func firstDifference(f *filter.Filter, full, narrowed rowSet) string {
	for i, id := range full.ids {
		want, _ := run(f, rowSet{docs: full.docs[i : i+1], ids: full.ids[i : i+1]})
		got, _ := run(f, rowSet{docs: narrowed.docs[i : i+1], ids: narrowed.ids[i : i+1], dropped: narrowed.dropped})
		sent := fmt.Sprintf("%q", narrowed.docs[i])
		if narrowed.dropped && narrowed.docs[i] == nil {
			sent = "dropped"
		}
		if !want.equal(got) {
			return fmt.Sprintf("row id %d %q (sent: %s): without pushdown %q %q, with %q %q",
				id, full.docs[i], sent, want.out, want.skips, got.out, got.skips)
		}
	}
	return "the outputs differ, but no single row's does"
}
