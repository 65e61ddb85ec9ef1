package testscripts_test

// Script commands for ping, views and completion: a JSON query on a file,
// SQL in a database of a script's own, and the shared TLS server.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/itchyny/gojq"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdJSON runs a jq expression on a JSON file and writes each result on a
// line of stdout, strings as they are (jq -r), anything else as compact
// JSON: json EXPR FILE. The file must hold one JSON value.
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: json EXPR FILE")
	}
	q, err := gojq.Parse(args[0])
	if err != nil {
		ts.Fatalf("json: %s: %v", args[0], err)
	}
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile(args[1])))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		ts.Fatalf("json: %s does not hold JSON: %v", args[1], err)
	}
	if dec.More() {
		ts.Fatalf("json: %s holds more than one JSON value", args[1])
	}
	v = gojqValue(v)
	var out bytes.Buffer
	iter := q.Run(v)
	for {
		r, ok := iter.Next()
		if !ok {
			break
		}
		if err, ok := r.(error); ok {
			ts.Fatalf("json: %s: %v", args[0], err)
		}
		if s, ok := r.(string); ok {
			out.WriteString(s + "\n")
			continue
		}
		b, err := json.Marshal(r)
		if err != nil {
			ts.Fatalf("json: %v", err)
		}
		out.Write(append(b, '\n'))
	}
	_, _ = ts.Stdout().Write(out.Bytes())
}

// gojqValue turns json.Number into the int or float64 gojq computes with.
func gojqValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.Atoi(string(x)); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = gojqValue(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = gojqValue(x[k])
		}
	}
	return v
}

// cmdPsqlDB runs SQL as the superuser in database DB of the shared server:
// psql-db DB 'SQL', or psql-db DB -f FILE for the SQL in a file. Its
// output becomes stdout. A script that needs relations nobody else sees
// makes a database of its own.
func cmdPsqlDB(ts *testscript.TestScript, neg bool, args []string) {
	var sql string
	switch {
	case len(args) == 2:
		sql = args[1]
	case len(args) == 3 && args[1] == "-f":
		sql = ts.ReadFile(args[2])
	default:
		ts.Fatalf("usage: psql-db DB 'SQL' | psql-db DB -f FILE")
	}
	srv, err := server()
	if err != nil {
		ts.Fatalf("no server: %v", err)
	}
	out, err := srv.Psql(context.Background(), sql, "-d", args[0])
	if (err != nil) != neg {
		ts.Fatalf("psql-db %s: %v", args[0], err)
	}
	_, _ = ts.Stdout().Write([]byte(out))
}

// cmdPgTLS starts (once) the shared server with TLS and sets, for the rest
// of the script: PGTEST_TLS_DSN, a connection string for RoleTLSOnly over
// TCP with sslmode=verify-full against the cluster's CA, password
// included; PGTEST_TLS_PASSWORD, that password; PGTEST_TLS_PORT, its port;
// PGTEST_TLS_WRONG_CA, a CA that signed nothing the server uses.
func cmdPgTLS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: pg-tls")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := pgtest.SharedTLS(ctx)
	if err != nil {
		ts.Fatalf("no TLS server: %v", err)
	}
	pw := pgtest.Password(pgtest.RoleTLSOnly)
	ts.Setenv("PGTEST_TLS_DSN", fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=verify-full sslrootcert='%s' password='%s'",
		pgtest.TLSServerName, srv.Port, pgtest.RoleTLSOnly, pgtest.Database, srv.TLS.CACert, pw))
	ts.Setenv("PGTEST_TLS_PASSWORD", pw)
	ts.Setenv("PGTEST_TLS_PORT", strconv.Itoa(srv.Port))
	ts.Setenv("PGTEST_TLS_WRONG_CA", srv.TLS.WrongCACert)
}
