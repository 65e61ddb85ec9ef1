package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// pushdownFixtures are the relations the --jq pushdown tests read: the
// same documents as a jsonb view and as a json view (its text as written,
// spaces and key order kept), of every shape a pushed condition must
// handle (missing keys, null, values of other types, nested objects,
// arrays, numbers that float64 rounds, strings a collation orders
// differently); hostile keys and values; and a json view holding \u0000
// and a lone surrogate escape.
const pushdownFixtures = `
DROP VIEW IF EXISTS v_pd_jsonb, v_pd_json, v_pd_odd_jsonb, v_pd_odd_json, v_pd_hostile, v_pd_hostile_json, v_pd_escapes CASCADE;
DROP TABLE IF EXISTS pd_docs, pd_hostile, pd_escapes CASCADE;
CREATE TABLE pd_docs (id int PRIMARY KEY, doc text NOT NULL);
INSERT INTO pd_docs
SELECT g, json_build_object(
  'id', g,
  'age', CASE WHEN g % 11 = 0 THEN NULL WHEN g % 13 = 0 THEN to_json('40'::text) WHEN g % 17 = 0 THEN to_json(true) ELSE to_json(18 + g % 50) END,
  'email', 'user' || g || '@example.com',
  'name', (ARRAY['alice', 'Bob', 'Émile', 'zoë', 'B', 'a', 'Ünal'])[1 + g % 7],
  'c', CASE WHEN g % 5 = 0 THEN NULL WHEN g % 9 = 0 THEN json_build_object('e', 'no d') ELSE json_build_object('d', g * 3, 'e', 'x') END,
  'a', CASE WHEN g % 4 = 0 THEN json_build_array() ELSE json_build_array(g, 'y', json_build_object('z', g)) END,
  'b', g % 3 = 0,
  'pad', repeat('p', 40 + g % 30)
)::text || CASE WHEN g % 6 = 0 THEN '' ELSE '' END
FROM generate_series(1, 300) g;
UPDATE pd_docs SET doc = regexp_replace(doc, '"pad"', '"k" : 1, "pad"') WHERE id % 8 = 0;
UPDATE pd_docs SET doc = regexp_replace(doc, '"age" : [^,]*, ', '') WHERE id % 19 = 0;
INSERT INTO pd_docs VALUES
  (1001, '{"id":1001,"n":1.00000000000000001,"s":"a"}'),
  (1002, '{"id":1002,"n":0.30000000000000004,"s":"B"}'),
  (1003, '{"id":1003,"n":100000000000000000001,"s":"é"}'),
  (1004, '[1,2,3]'),
  (1005, '"a string row"'),
  (1006, 'null'),
  (1007, '{"id":1007,"a":{"b":"nested"},"c":{"d":{"e":1}}}');
CREATE VIEW v_pd_jsonb AS SELECT id, doc::jsonb AS data FROM pd_docs WHERE id NOT BETWEEN 1004 AND 1006;
CREATE VIEW v_pd_json AS SELECT id, doc::json AS data FROM pd_docs WHERE id NOT BETWEEN 1004 AND 1006;
CREATE VIEW v_pd_odd_jsonb AS SELECT id, doc::jsonb AS data FROM pd_docs;
CREATE VIEW v_pd_odd_json AS SELECT id, doc::json AS data FROM pd_docs;
CREATE TABLE pd_hostile (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO pd_hostile VALUES
  (1, jsonb_build_object('it''s', 'x''y $1', '*/', 'close', '/*', 'open', '--', 'dash', 'a;b', 'semi', 'back\slash', 'bs', E'new\nline', 'nl', 'ключ→😀', 'uni', 'id', 1)),
  (2, jsonb_build_object('it''s', 'other', '*/', 'c2', '/*', 'o2', '--', 'd2', 'a;b', 's2', 'back\slash', 'b2', E'new\nline', 'n2', 'ключ→😀', 'u2', 'id', 2)),
  (3, jsonb_build_object('it''s', '$1', 'id', 3)),
  (4, jsonb_build_object('id', 4, 'a;b', 'x''y $1'));
CREATE VIEW v_pd_hostile AS SELECT id, data FROM pd_hostile;
CREATE VIEW v_pd_hostile_json AS SELECT id, data::json AS data FROM pd_hostile;
CREATE TABLE pd_escapes (id int PRIMARY KEY, data json);
INSERT INTO pd_escapes VALUES
  (1, '{"id":1,"s":"ok","x":1,"pad":"pppp"}'),
  (2, '{"id":2,"s":"nul \u0000 inside","x":5,"pad":"pppp"}'),
  (3, '{"id":3,"s":"\ud800","x":7,"pad":"pppp"}'),
  (4, '{"id":4,"s":"fine","x":9,"pad":"pppp"}'),
  (5, NULL),
  (6, '{"id":6,"\u0000key":"v","x":2}');
CREATE VIEW v_pd_escapes AS SELECT id, data FROM pd_escapes;
GRANT SELECT ON pd_docs, pd_hostile, pd_escapes, v_pd_jsonb, v_pd_json, v_pd_odd_jsonb, v_pd_odd_json, v_pd_hostile, v_pd_hostile_json, v_pd_escapes TO PUBLIC;
`

var pushdownOnce sync.Once

// pushdownServer is the shared server with the pushdown fixtures.
func pushdownServer(t *testing.T) *pgtest.Server {
	t.Helper()
	srv := pgtest.Require(t)
	var err error
	pushdownOnce.Do(func() { _, err = srv.Psql(context.Background(), pushdownFixtures) })
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// samePushdown runs fraise stream with args, with pushdown and with
// --no-pushdown, and fails unless both exit 0 with the same stdout; it
// returns that stdout.
func samePushdown(t *testing.T, args ...string) string {
	t.Helper()
	code, want, stderr := run(t, append(args, "--no-pushdown")...)
	if code != 0 {
		t.Fatalf("--no-pushdown: exit %d, stderr %q", code, stderr)
	}
	code, got, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("pushdown: exit %d, stderr %q", code, stderr)
	}
	if got != want {
		t.Fatalf("pushdown: %d bytes, %d lines; --no-pushdown: %d bytes, %d lines; first difference at byte %d\npushdown:    %.300q\n--no-pushdown: %.300q",
			len(got), strings.Count(got, "\n"), len(want), strings.Count(want, "\n"), firstDiff(got, want), got, want)
	}
	return got
}

// explain runs fraise stream args --explain and returns its stdout,
// failing unless it exits 0 with nothing on stderr.
func explain(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := run(t, append(args, "--explain")...)
	if code != 0 || stderr != "" {
		t.Fatalf("--explain: exit %d, stderr %q", code, stderr)
	}
	return out
}

// pushdownExprs are expressions of every form pushdown narrows, with the
// flags they need.
var pushdownExprs = []struct {
	name string
	args []string
}{
	{"object with a nested path", []string{"--jq", "{id, b: .c.d}"}},
	{"nested path", []string{"--jq", ".a.b?"}},
	{"array index", []string{"--jq", ".a[0]?"}},
	{"array of paths", []string{"--jq", "[.a, .b]"}},
	{"select on a number, then an object", []string{"--jq", "select(.age > 30) | {id, email}"}},
	{"select on a number, every operator", []string{"--jq", "select(.age >= 30) | select(.age < 60) | select(.age != 45) | select(.age <= 59) | .id"}},
	{"string equality", []string{"--jq", `select(.name == "Bob") | .id`}},
	{"string order", []string{"--jq", `select(.name < "a") | [.id, .name]`}},
	{"alternative", []string{"--jq", `.name // "d"`}},
	{"$arg", []string{"--jq", `select(.name == $n) | .id`, "--arg", "n", "zoë"}},
	{"--argjson", []string{"--jq", `select(.age > $min) | {id, age}`, "--argjson", "min", "30"}},
	{"literal on the left", []string{"--jq", `select(40 < .age) | .id`}},
	{"has", []string{"--jq", `select(has("k")) | .id`}},
	{"nested has", []string{"--jq", `select(.c | has("d")) | .id`}},
	{"equal to null", []string{"--jq", `select(.a == null) | .id`}},
	{"null literal order", []string{"--jq", `select(.c.d > null) | .id`}},
	{"boolean literals", []string{"--jq", `select(.b == true) | .id, (select(.b == false) | -.id)`}},
	{"truth of a path", []string{"--jq", `select(.b) | .id`}},
	{"and, or, not", []string{"--jq", `select((.age > 30 and .b) or (.name == "B" | not)) | .id`}},
	{"not of has", []string{"--jq", `select(has("age") | not) | .id`}},
	{"numbers float64 rounds", []string{"--jq", `select(.n == 1) | .id, (select(.n >= 0.30000000000000005) | .s)`}},
	{"big integer", []string{"--jq", `select(.n == 100000000000000000001) | .id, (select(.n > 100000000000000000000) | .s)`}},
	{"whole rows", []string{"--jq", "select(.id > 1000)"}},
}

// TestPushdownSameBytes proves that pushdown never changes the output:
// for each expression form, on the jsonb view and on the json view, with
// --where, --order-by and --param, fraise prints the same bytes with and
// without pushdown; with --parallel 2 --order-by id it prints the bytes
// one connection prints without pushdown.
func TestPushdownSameBytes(t *testing.T) {
	srv := pushdownServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, view := range []string{"v_pd_jsonb", "v_pd_json"} {
		for _, e := range pushdownExprs {
			t.Run(view+"/"+e.name, func(t *testing.T) {
				base := append([]string{"stream", view, "-d", dsn}, e.args...)
				out := samePushdown(t, append(base, "--order-by", "id")...)
				if out == "" {
					t.Fatal("no output: the expression selects nothing")
				}
				samePushdown(t, append(base, "--where", "id % 3 <> $1", "--param", "1", "--order-by", "id DESC")...)
				samePushdown(t, append(base, "--where", "id > $1", "--where", "id < $2", "--param", "20", "--param", "1003", "--order-by", "data->>'name', id")...)
				code, par, stderr := run(t, append(base, "--order-by", "id", "--parallel", "2")...)
				if code != 0 {
					t.Fatalf("--parallel 2: exit %d, stderr %q", code, stderr)
				}
				if par != out {
					t.Fatalf("--parallel 2: %d bytes, one connection without pushdown %d; first difference at byte %d", len(par), len(out), firstDiff(par, out))
				}
			})
		}
	}
}

// bytesRead returns --stats' bytes_read.
func bytesRead(t *testing.T, stderr string) int64 {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	var s struct {
		BytesRead *int64 `json:"bytes_read"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil || s.BytesRead == nil {
		t.Fatalf("no bytes_read in --stats: %v\n%s", err, stderr)
	}
	return *s.BytesRead
}

// TestPushdownStatsBytesRead proves that the projection narrows what the
// server sends: --stats' bytes_read is smaller with pushdown when the
// expression observes part of each row of a jsonb column, and equal to
// that of a run without --jq with --no-pushdown, when it observes whole
// rows, or on a json column (nothing is pushed there).
func TestPushdownStatsBytesRead(t *testing.T) {
	srv := pushdownServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, view := range []string{"v_pd_jsonb", "v_pd_json"} {
		t.Run(view, func(t *testing.T) {
			stream := func(args ...string) int64 {
				t.Helper()
				code, _, stderr := run(t, append([]string{"stream", view, "-d", dsn, "--order-by", "id", "--stats"}, args...)...)
				if code != 0 {
					t.Fatalf("%q: exit %d, stderr %q", args, code, stderr)
				}
				return bytesRead(t, stderr)
			}
			all := stream()
			narrow := stream("--jq", "{id, email}")
			whole := stream("--jq", "{id, email}", "--no-pushdown")
			if whole != all {
				t.Errorf("--no-pushdown: bytes_read %d, without --jq %d", whole, all)
			}
			if view == "v_pd_json" && narrow != all {
				t.Errorf("{id, email} on a json column: bytes_read %d, want %d (nothing is pushed on json)", narrow, all)
			}
			if view == "v_pd_jsonb" && narrow >= all/2 {
				t.Errorf("{id, email} with pushdown: bytes_read %d, not under half of the %d of whole rows", narrow, all)
			}
			if w := stream("--jq", "."); w != all {
				t.Errorf("--jq .: bytes_read %d, want %d (nothing to narrow)", w, all)
			}
		})
	}
}

// TestPushdownLimitAndSelect proves that --limit and --offset count the
// same rows with a pushed select: a row the select drops is still sent
// (as NULL), so the output equals --no-pushdown's, the stats' row counts
// too, and --explain shows the select pushed.
func TestPushdownLimitAndSelect(t *testing.T) {
	srv := pushdownServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, flags := range [][]string{{"--limit", "5"}, {"--offset", "3"}, {"--limit", "5", "--offset", "2"}, {"--limit", "40", "--parallel", "1"}} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			args := append([]string{"stream", "v_pd_jsonb", "-d", dsn, "--order-by", "id", "--jq", "select(.age > 20) | {id, age}"}, flags...)
			if out := samePushdown(t, args...); out == "" {
				t.Fatal("no output")
			}
			plan := explain(t, args...)
			if !strings.Contains(plan, "pushdown: a row select(.age > 20) certainly drops") || !strings.Contains(plan, "/* fraise --jq pushdown: only .age, .id */") {
				t.Errorf("--explain does not push the select and the projection:\n%s", plan)
			}
			counts := func(args ...string) string {
				t.Helper()
				code, _, stderr := run(t, append(args, "--stats")...)
				var st struct {
					Read     int64 `json:"rows_read"`
					Written  int64 `json:"rows_written"`
					Filtered int64 `json:"rows_filtered"`
				}
				if err := json.Unmarshal([]byte(stderr), &st); code != 0 || err != nil {
					t.Fatalf("--stats: exit %d, %v: %q", code, err, stderr)
				}
				return fmt.Sprintf("%+v", st)
			}
			if got, want := counts(args...), counts(append(args, "--no-pushdown")...); got != want {
				t.Errorf("--stats rows: %s with pushdown, %s without", got, want)
			}
		})
	}
}

// TestPushdownVerboseAndExplain proves what -v and --explain say: -v logs
// the pushdown notes of a run; --explain exits 0 without streaming,
// writing the statement with the pushed parts in comments, each parameter
// as a "-- $n = " line (the user's first), and the notes; with
// --no-pushdown it shows the plain statement.
func TestPushdownVerboseAndExplain(t *testing.T) {
	srv := pushdownServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	args := []string{"stream", "v_pd_jsonb", "-d", dsn, "--where", "id > $1", "--param", "10", "--jq", `select(.name == "Bob") | {id, email}`}

	code, _, stderr := run(t, append(args, "-v")...)
	if code != 0 {
		t.Fatalf("-v: exit %d, stderr %q", code, stderr)
	}
	for _, note := range []string{"projection: the server sends only .email, .id, .name", `selection: select(.name == \"Bob\") also narrows on the server`} {
		if !strings.Contains(stderr, note) {
			t.Errorf("-v does not log %q:\n%s", note, stderr)
		}
	}

	plan := explain(t, args...)
	for _, want := range []string{
		"/* fraise --jq pushdown: only .email, .id, .name */",
		`/* fraise --jq pushdown: a row select(.name == "Bob") certainly drops is sent as NULL */`,
		"-- $1 = '10'\n",
		"-- $2 = 'email'\n",
		"= 'Bob'\n",
		"-- pushdown projection: the server sends only .email, .id, .name\n",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("--explain lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "'Bob'") && strings.Contains(sqlLines(plan), "Bob") {
		t.Errorf("--explain pastes a literal into the SQL:\n%s", plan)
	}

	plain := explain(t, append(args, "--no-pushdown")...)
	want := "-- the statement fraise sends, in a READ ONLY transaction that ends with ROLLBACK\n" +
		"SELECT \"data\"\nFROM \"v_pd_jsonb\"\nWHERE (\nid > $1\n);\n-- $1 = '10'\n-- pushdown none: --no-pushdown\n"
	if plain != want {
		t.Errorf("--explain --no-pushdown:\n%s\nwant:\n%s", plain, want)
	}
}

// sqlLines are the lines of --explain's output that are SQL, not
// comments, with the /* */ comments removed.
func sqlLines(plan string) string {
	var b strings.Builder
	for _, l := range strings.Split(plan, "\n") {
		if !strings.HasPrefix(l, "--") {
			b.WriteString(comment.ReplaceAllString(l, "") + "\n")
		}
	}
	return b.String()
}

var comment = regexp.MustCompile(`/\*.*?\*/`)

// TestPushdownHostileKeys proves that keys and literals are bound as
// parameters, never pasted: keys with quotes, comment markers, "--", ";",
// backslashes, a newline and non-ASCII characters, and string literals
// with a quote and "$1", give the same output with and without pushdown
// on both column types; in --explain they appear only in the quoted
// "-- $n =" lines and in comments, and no raw control character is
// written.
func TestPushdownHostileKeys(t *testing.T) {
	srv := pushdownServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	exprs := [][]string{
		{"--jq", `{id, q: ."it's", c: ."*/", o: ."/*", d: ."--", s: ."a;b", b: ."back\\slash", n: ."new\nline", u: ."ключ→😀"}`},
		{"--jq", `select(."it's" == "x'y $1") | .id`},
		{"--jq", `select(."a;b" == $v or ."*/" == "close") | .id`, "--arg", "v", "x'y $1"},
		{"--jq", `select(has("new\nline") and ."ключ→😀" != "u2") | {id}`},
		{"--jq", `select(."it's" == "$1") | ."it's"`},
		{"--jq", `select(."back\\slash" > "b'") | ."/*"`},
	}
	for _, view := range []string{"v_pd_hostile", "v_pd_hostile_json"} {
		for _, e := range exprs {
			t.Run(view+"/"+e[1], func(t *testing.T) {
				args := append([]string{"stream", view, "-d", dsn, "--order-by", "id"}, e...)
				if samePushdown(t, args...) == "" {
					t.Fatal("no output")
				}
				plan := explain(t, args...)
				if pushed := strings.Contains(plan, "/* fraise --jq pushdown: "); pushed != (view == "v_pd_hostile") {
					t.Errorf("pushed %v on %s (nothing is pushed on json):\n%s", pushed, view, plan)
				}
				for i, r := range plan {
					if (r < 0x20 && r != '\n') || r == 0x7f {
						t.Fatalf("control character %U at %d:\n%q", r, i, plan)
					}
				}
				sql := sqlLines(plan)
				for _, s := range []string{"it's", "x'y", "*/", "/*", "a;b", "slash", "ключ", "close"} {
					if strings.Contains(sql, s) {
						t.Errorf("%q pasted into the SQL:\n%s", s, sql)
					}
				}
				if strings.Count(sql, ";") != 1 {
					t.Errorf("the SQL has more than its final ';':\n%s", sql)
				}
			})
		}
	}
}

// TestPushdownJSONEscapes proves that a json column holding \u0000 and a
// lone surrogate escape, which the server's json operators fail on, is
// streamed as with --no-pushdown: nothing is pushed on json, and
// --explain says why.
func TestPushdownJSONEscapes(t *testing.T) {
	srv := pushdownServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, jq := range []string{"{id, x}", "select(.x > 3) | .id", `select(.s == "fine") | .id`, `select(has("x")) | [.id, .s]`, ".s", "select(.x) | .id"} {
		t.Run(jq, func(t *testing.T) {
			args := []string{"stream", "v_pd_escapes", "-d", dsn, "--order-by", "id", "--jq", jq}
			if samePushdown(t, args...) == "" {
				t.Fatal("no output")
			}
			if plan := explain(t, args...); strings.Contains(plan, "/* fraise") || !strings.Contains(plan, "-- pushdown none: the column is json") {
				t.Errorf("--explain pushes on a json column, or does not say why not:\n%s", plan)
			}
		})
	}
}

// TestPushdownSameErrors proves that pushdown keeps jq's errors: on views
// with rows that are an array, a string and JSON null, where paths fail,
// fraise exits with the same code and prints the same stdout and error,
// its row number included (a row a pushed select drops is still sent, as
// NULL), with and without pushdown, and with --on-jq-error skip prints the
// same rows and warnings.
func TestPushdownSameErrors(t *testing.T) {
	srv := pushdownServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, view := range []string{"v_pd_odd_jsonb", "v_pd_odd_json"} {
		for _, jq := range []string{"{id, b: .c.d}", "select(.age > 30) | .id", `select(has("k")) | .id`, `select(.id > 1002) | .id`, ".a.b"} {
			t.Run(view+"/"+jq, func(t *testing.T) {
				args := []string{"stream", view, "-d", dsn, "--order-by", "id", "--jq", jq}
				wantCode, want, wantErr := run(t, append(args, "--no-pushdown")...)
				code, got, gotErr := run(t, args...)
				if wantCode != 5 {
					t.Fatalf("--no-pushdown: exit %d, want 5 (a jq error): %q", wantCode, wantErr)
				}
				if code != wantCode || got != want || gotErr != wantErr {
					t.Errorf("pushdown: exit %d, stdout %.200q, stderr %q\n--no-pushdown: exit %d, stdout %.200q, stderr %q", code, got, gotErr, wantCode, want, wantErr)
				}
				skip := append(args, "--on-jq-error", "skip")
				_, want, wantErr = run(t, append(skip, "--no-pushdown")...)
				_, got, gotErr = run(t, skip...)
				if got != want || gotErr != wantErr {
					t.Errorf("--on-jq-error skip: pushdown stdout %.200q, stderr %q\n--no-pushdown: stdout %.200q, stderr %q", got, gotErr, want, wantErr)
				}
			})
		}
	}
}

// TestPushdownCollation proves that string comparisons are pushed by code
// point, as jq compares, whatever the database's collation: in a database
// whose default collation is ICU's root locale (where "a" < "B"), selects
// with every string operator print the same as --no-pushdown. Skipped
// where the server cannot create such a database (before PostgreSQL 15,
// or without ICU).
func TestPushdownCollation(t *testing.T) {
	srv := pushdownServer(t)
	ctx := context.Background()
	if srv.Major < 15 {
		t.Skipf("needs PostgreSQL 15 or later for an ICU default collation; the server is %d", srv.Major)
	}
	_, _ = srv.Psql(ctx, "DROP DATABASE IF EXISTS fraise_pd_icu")
	if _, err := srv.Psql(ctx, "CREATE DATABASE fraise_pd_icu TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C'"); err != nil {
		if strings.Contains(err.Error(), "ICU is not supported") {
			t.Skipf("the server is built without ICU (%s)", strings.TrimSpace(strings.SplitN(err.Error(), "\n", 2)[0]))
		}
		t.Fatal(err)
	}
	const setup = `CREATE TABLE pd_names (id int PRIMARY KEY, data jsonb);
INSERT INTO pd_names SELECT g, jsonb_build_object('id', g, 's', (ARRAY['a', 'B', 'b', 'A', 'é', 'e', 'Z', 'z', 'ä', '_', '1'])[g]) FROM generate_series(1, 11) g;
CREATE VIEW v_pd_names_json AS SELECT id, data::json AS data FROM pd_names;
GRANT SELECT ON pd_names, v_pd_names_json TO PUBLIC;
SELECT count(*) FROM pd_names WHERE data->>'s' > 'B';`
	out, err := srv.Psql(ctx, setup, "-d", "fraise_pd_icu")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) == "8" {
		t.Fatalf("the database orders strings by code point: %s", out)
	}
	dsn := strings.Replace(srv.ConnString(pgtest.RoleTrust, false), "dbname="+pgtest.Database, "dbname=fraise_pd_icu", 1)
	for _, view := range []string{"pd_names", "v_pd_names_json"} {
		for _, op := range []string{"<", "<=", ">", ">=", "==", "!="} {
			jq := `select(.s ` + op + ` "B") | .s`
			t.Run(view+"/"+jq, func(t *testing.T) {
				args := []string{"stream", view, "-d", dsn, "--order-by", "id", "--jq", jq}
				if samePushdown(t, args...) == "" {
					t.Fatal("no output")
				}
				if pushed := strings.Contains(explain(t, args...), `COLLATE "C"`); pushed != (view == "pd_names") {
					t.Errorf("pushed %v on %s (nothing is pushed on json)", pushed, view)
				}
			})
		}
	}
}
