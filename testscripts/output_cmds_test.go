package testscripts_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdDecompress writes the decompressed content of a .gz or .zst file:
// decompress IN OUT. The format comes from IN's suffix.
func cmdDecompress(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: decompress IN.gz|IN.zst OUT")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	var r io.Reader
	switch filepath.Ext(args[0]) {
	case ".gz":
		zr, err := gzip.NewReader(f)
		ts.Check(err)
		r = zr
	case ".zst":
		zr, err := zstd.NewReader(f)
		ts.Check(err)
		defer zr.Close()
		r = zr
	default:
		ts.Fatalf("decompress: %s is neither .gz nor .zst", args[0])
	}
	out, err := io.ReadAll(r)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), out, 0o644))
}

// cmdArrayLines checks that a file holds one JSON array and writes its
// elements, byte for byte as they appear, one per line: array-lines IN OUT.
func cmdArrayLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: array-lines IN OUT")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		ts.Fatalf("%s is not a JSON array: %v", args[0], err)
	}
	var b bytes.Buffer
	for _, e := range elems {
		b.Write(e)
		b.WriteByte('\n')
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b.Bytes(), 0o644))
}

// cmdNoTempFiles checks that no temporary output file is left in a
// directory: no-temp-files DIR.
func cmdNoTempFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: no-temp-files DIR")
	}
	ents, err := os.ReadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".fraise-tmp") {
			ts.Fatalf("temporary output file left behind: %s", e.Name())
		}
	}
}
