// The tour itself: what each step runs and what it checks.

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
)

// seqRows is the number of rows of v_seq (internal/pgtest/fixtures.sql).
const seqRows = 100000

// steps returns the tour; its export is written into dir.
func steps(dir string) []step {
	export := filepath.Join(dir, "users.ndjson.zst")
	return []step{
		{title: "the relations with a json/jsonb column named data that this role can read", args: []string{"views"}},
		{title: "the server, and how fraise reached it", args: []string{"ping"}},
		{title: "filter and sort in SQL, a few rows only", args: []string{"stream", "v_user",
			"--where", "data->>'active' = 'true'", "--where", "(data->>'age')::int >= 30",
			"--order-by", "data->>'name' DESC", "--limit", "3"}},
		{title: "reshape each row with jq; -r writes strings raw", args: []string{"stream", "v_user",
			"--limit", "3", "--jq", `"\(.name) <\(.email)>"`, "-r"}},
		{title: "export to a file, zstd-compressed by its suffix, with a summary on stderr", args: []string{"stream", "v_user",
			"-o", export, "--stats"}, after: reportExport(export)},
		{title: "a consumer that stops early: fraise ends at once, exit 0", args: []string{"stream", "v_seq", "--stats"},
			pipe: []string{"head", "-n", "1"}, after: reportEarlyEnd},
	}
}

// reportExport returns a check that path holds zstd-compressed NDJSON,
// reporting its size and lines.
func reportExport(path string) func(w io.Writer, _, _ []byte) error {
	return func(w io.Writer, _, _ []byte) error {
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		lines, size, err := zstdLines(path)
		if err != nil {
			return fmt.Errorf("reading %s back: %w", path, err)
		}
		if lines == 0 {
			return fmt.Errorf("%s holds no rows", path)
		}
		fmt.Fprintf(w, "# %s: %d bytes, holding %d lines (%d bytes) of NDJSON\n", filepath.Base(path), fi.Size(), lines, size)
		return nil
	}
}

// zstdLines decompresses path and counts its lines and bytes, each line
// being checked to be JSON.
func zstdLines(path string) (lines int, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	dec, err := zstd.NewReader(f)
	if err != nil {
		return 0, 0, err
	}
	defer dec.Close()
	sc := bufio.NewScanner(dec)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			return lines, size, fmt.Errorf("line %d is not JSON", lines+1)
		}
		lines++
		size += int64(len(sc.Bytes())) + 1
	}
	return lines, size, sc.Err()
}

// reportEarlyEnd checks that head printed one line and that fraise's
// --stats line says it stopped well before the end of v_seq.
func reportEarlyEnd(w io.Writer, out, errOut []byte) error {
	if n := bytes.Count(out, []byte("\n")); n != 1 {
		return fmt.Errorf("head printed %d lines, want 1", n)
	}
	var stats struct {
		RowsWritten *int64 `json:"rows_written"`
	}
	rest := bytes.TrimSpace(errOut)
	line := rest[bytes.LastIndexByte(rest, '\n')+1:]
	if err := json.Unmarshal(line, &stats); err != nil || stats.RowsWritten == nil {
		return errors.New("fraise printed no --stats line with rows_written")
	}
	if *stats.RowsWritten >= seqRows {
		return fmt.Errorf("fraise wrote all %d rows: the pipe was not closed early", *stats.RowsWritten)
	}
	fmt.Fprintf(w, "# head exited 0 after one line; fraise then exited 0 too, having written %d of the %d rows:\n"+
		"# the closed pipe ended its run and cancelled the query\n", *stats.RowsWritten, seqRows)
	return nil
}
