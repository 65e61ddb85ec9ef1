package filter_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.RunMain(m)) }

// jqcLoad loads the rows of every case into jqc: the text as given, then
// as json and as jsonb where the type can hold it (SQL NULL rows stay
// NULL); jqc_json and jqc_jsonb show each column's rows, a row the type
// cannot hold left out.
const jqcSetup = `
DROP VIEW IF EXISTS jqc_json, jqc_jsonb;
DROP TABLE IF EXISTS jqc;
CREATE OR REPLACE FUNCTION jqc_try(t text, jsonb bool) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  IF jsonb THEN PERFORM t::jsonb; ELSE PERFORM t::json; END IF;
  RETURN t;
EXCEPTION WHEN others THEN RETURN NULL;
END $$;
CREATE TABLE jqc (c int, ord int, t text, j json, jb jsonb, in_j bool, in_jb bool, PRIMARY KEY (c, ord));
`

const jqcViews = `
UPDATE jqc SET j = jqc_try(t, false)::json, jb = jqc_try(t, true)::jsonb;
UPDATE jqc SET in_j = (t IS NULL OR j IS NOT NULL), in_jb = (t IS NULL OR jb IS NOT NULL);
CREATE VIEW jqc_json AS SELECT c, ord, j AS data FROM jqc WHERE in_j;
CREATE VIEW jqc_jsonb AS SELECT c, ord, jb AS data FROM jqc WHERE in_jb;
GRANT SELECT ON jqc, jqc_json, jqc_jsonb TO PUBLIC;
SELECT count(*) FILTER (WHERE NOT in_j), count(*) FILTER (WHERE NOT in_jb) FROM jqc;
`

// sqlText quotes s as a standard SQL string literal.
func sqlText(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// fraise runs the CLI in-process and returns its exit code and outputs.
func fraise(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestJQCompatPushdown proves that --jq pushdown never changes what
// fraise prints: every case of the jq compatibility suite (jqCases and
// jqErrCases) is loaded into a table, as a json column and as a jsonb
// column (SQL NULL rows stay NULL; a row jsonb cannot hold, such as one
// with \u0000, is left out of the jsonb view only), and its expression is
// run through fraise with pushdown and with --no-pushdown, on each column:
// stdout, stderr and the exit code must be identical. --explain tells
// which runs pushed a projection or a select; the test fails if none did,
// so that it cannot pass by never narrowing anything.
func TestJQCompatPushdown(t *testing.T) {
	srv := pgtest.Require(t)
	for _, k := range []string{"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE", "PGOPTIONS", "FRAISE_DSN", "FRAISE_WHERE", "FRAISE_LIMIT"} {
		t.Setenv(k, "")
		_ = os.Unsetenv(k)
	}
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	cases := filter.JQCases()

	var sql strings.Builder
	sql.WriteString(jqcSetup)
	var skipped []string
	for i, c := range cases {
		valid := true
		for _, r := range c.Rows {
			valid = valid && utf8.ValidString(r)
		}
		if !valid {
			skipped = append(skipped, c.Name)
			continue
		}
		for k, r := range c.Rows {
			v := "NULL"
			if r != filter.SQLNull {
				v = sqlText(r)
			}
			fmt.Fprintf(&sql, "INSERT INTO jqc (c, ord, t) VALUES (%d, %d, %s);\n", i, k, v)
		}
	}
	sql.WriteString(jqcViews)
	out, err := srv.Psql(context.Background(), sql.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rows left out (json|jsonb): %s; cases not loaded (not UTF-8): %q", strings.TrimSpace(out), skipped)

	var runs, projected, selected int
	for i, c := range cases {
		if slicesContains(skipped, c.Name) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			for _, view := range []string{"jqc_json", "jqc_jsonb"} {
				args := []string{"stream", view, "-d", dsn, "--where", "c = $1", "--param", strconv.Itoa(i), "--order-by", "ord", "--jq", c.Expr}
				for _, v := range c.Vars {
					flag := "--arg"
					if v.JSON {
						flag = "--argjson"
					}
					args = append(args, flag, v.Name, v.Value)
				}
				if c.Raw {
					args = append(args, "-r")
				}
				code, plan, stderr := fraise(append(args, "--explain")...)
				if code != 0 || stderr != "" {
					t.Fatalf("%s: --explain: exit %d, stderr %q", view, code, stderr)
				}
				runs++
				pushedSelect := strings.Contains(plan, "/* fraise --jq pushdown: a row select(")
				if strings.Contains(plan, "/* fraise --jq pushdown: only ") {
					projected++
				}
				if pushedSelect {
					selected++
				}
				wantCode, want, wantErr := fraise(append(args, "--no-pushdown")...)
				code, got, gotErr := fraise(args...)
				if code != wantCode || got != want || gotErr != wantErr {
					t.Errorf("%s: pushdown: exit %d, stdout %q, stderr %q\n--no-pushdown: exit %d, stdout %q, stderr %q",
						view, code, got, gotErr, wantCode, want, wantErr)
				}
				if !c.Err && wantCode != 0 {
					t.Errorf("%s: --no-pushdown failed (exit %d): %s", view, wantCode, wantErr)
				}
			}
		})
	}
	t.Logf("%d runs: %d with a projection pushed, %d with a select pushed", runs, projected, selected)
	if projected == 0 || selected == 0 {
		t.Errorf("%d runs: %d pushed a projection, %d a select: the test compares nothing narrowed", runs, projected, selected)
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
