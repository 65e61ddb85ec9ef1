// Command pgxloop is the pgx v5 baseline of fraise's benchmarks: the
// minimal program a Go developer would write to stream one column out of
// PostgreSQL. It connects with the PG* environment (as psql and fraise
// do), runs the statement given as its only argument and writes each
// row's first value, undecoded, followed by a newline.
//
// It lives in its own module so that pgx stays out of fraise's
// dependencies.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pgxloop SQL")
		os.Exit(2)
	}
	if err := run(context.Background(), os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "pgxloop:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, "")
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return err
	}
	for rows.Next() {
		w.Write(rows.RawValues()[0])
		w.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return w.Flush()
}
