package output_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/klauspost/compress/zstd"
)

// segmentCodecs are the compressions a resumable output is written in,
// each with the reader of the whole file.
var segmentCodecs = []struct {
	file   string
	c      output.Compression
	decode func(io.Reader) (io.Reader, error)
}{
	{"out.ndjson", output.None, func(r io.Reader) (io.Reader, error) { return r, nil }},
	{"out.ndjson.gz", output.Gzip, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
	{"out.ndjson.zst", output.Zstd, func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r) }},
}

var testID = output.Identity{Hash: "h1", Values: map[string]string{"relation": "v", "where": "a"}}

// writeSegment writes lines first..last-1 into the current segment and
// seals it with the last one's key.
func writeSegment(t *testing.T, s *output.Segments, first, last int) {
	t.Helper()
	w, err := s.Writer()
	if err != nil {
		t.Fatal(err)
	}
	for i := first; i < last; i++ {
		fmt.Fprintf(w, "{\"id\":%d,\"s\":\"%s\"}\n", i, strings.Repeat("x", i%50))
	}
	if err := s.Seal([]string{fmt.Sprint(last - 1)}, int64(last-first), int64(last-first)); err != nil {
		t.Fatal(err)
	}
	// Sealed once synced and recorded.
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
}

func wantLines(first, last int) string {
	var b strings.Builder
	for i := first; i < last; i++ {
		fmt.Fprintf(&b, "{\"id\":%d,\"s\":\"%s\"}\n", i, strings.Repeat("x", i%50))
	}
	return b.String()
}

// TestSegmentsResume: segments sealed by a run that then dies (an open,
// unsealed segment left behind) are taken up by the next run of the same
// command, which appends and publishes; the file decompresses to exactly
// the lines of every sealed segment, in order, the unsealed part not
// among them, and the directory is gone.
func TestSegmentsResume(t *testing.T) {
	for _, tc := range segmentCodecs {
		t.Run(tc.file, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), tc.file)
			s, err := output.OpenSegments(name, tc.c, testID, false, output.Run{Server: "15"})
			if err != nil {
				t.Fatal(err)
			}
			writeSegment(t, s, 0, 1000)
			writeSegment(t, s, 1000, 2500)
			w, err := s.Writer()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(w, "{\"id\":\"never sealed\"}\n")
			if err := s.Wait(); err != nil {
				t.Fatal(err)
			}
			output.Kill(s)

			s2, err := output.OpenSegments(name, tc.c, testID, false, output.Run{Server: "15"})
			if err != nil {
				t.Fatal(err)
			}
			sealed := s2.Sealed()
			if len(sealed) != 2 || sealed[1].LastKey[0] != "2499" || sealed[1].Rows != 1500 || len(s2.Runs()) != 2 {
				t.Fatalf("sealed %+v, runs %+v", sealed, s2.Runs())
			}
			if fi, err := os.Stat(filepath.Join(output.ResumeDir(name), "data")); err != nil || fi.Size() != sealed[1].Offset+sealed[1].Bytes {
				t.Errorf("the data file is not cut back to the sealed segments (%d bytes): %v", sealed[1].Offset+sealed[1].Bytes, err)
			}
			writeSegment(t, s2, 2500, 4000)
			if err := s2.Publish([]byte("{\"tail\":true}\n")); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := tc.decode(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if want := wantLines(0, 4000) + "{\"tail\":true}\n"; string(got) != want {
				t.Errorf("published %d bytes, want %d; first difference at %d", len(got), len(want), firstDifference(string(got), want))
			}
			if _, err := os.Stat(output.ResumeDir(name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the resume directory is left: %v", err)
			}
		})
	}
}

func firstDifference(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestSegmentsRefusals: another command, a changed, missing or corrupt
// segment, and a manifest fraise did not write are refused with a
// *ResumeError saying what differs and naming --resume=restart, which
// discards them; the directory is private.
func TestSegmentsRefusals(t *testing.T) {
	setup := func(t *testing.T) string {
		name := filepath.Join(t.TempDir(), "out.ndjson")
		s, err := output.OpenSegments(name, output.None, testID, false, output.Run{})
		if err != nil {
			t.Fatal(err)
		}
		writeSegment(t, s, 0, 10)
		writeSegment(t, s, 10, 20)
		output.Kill(s)
		if fi, err := os.Stat(output.ResumeDir(name)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("resume directory: %v, mode %v; want 0700", err, fi.Mode().Perm())
		}
		return name
	}
	data := func(name string) string { return filepath.Join(output.ResumeDir(name), "data") }
	for _, tc := range []struct {
		what   string
		change func(t *testing.T, name string) output.Identity
		want   string
	}{
		{"another command", func(*testing.T, string) output.Identity {
			return output.Identity{Hash: "h2", Values: map[string]string{"relation": "v", "where": "b"}}
		}, `where was "a", is "b"`},
		{"a changed segment", func(t *testing.T, name string) output.Identity {
			b, err := os.ReadFile(data(name))
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-3] = 'X'
			if err := os.WriteFile(data(name), b, 0o600); err != nil {
				t.Fatal(err)
			}
			return testID
		}, "segment 2 of 2 does not match its checksum"},
		{"a cut segment", func(t *testing.T, name string) output.Identity {
			if err := os.Truncate(data(name), 100); err != nil {
				t.Fatal(err)
			}
			return testID
		}, "segment 1 of 2 is missing: the data file ends 100 bytes into it"},
		{"a missing data file", func(t *testing.T, name string) output.Identity {
			if err := os.Remove(data(name)); err != nil {
				t.Fatal(err)
			}
			return testID
		}, "its data file cannot be opened"},
		{"a missing manifest", func(t *testing.T, name string) output.Identity {
			if err := os.Remove(filepath.Join(output.ResumeDir(name), "manifest.json")); err != nil {
				t.Fatal(err)
			}
			return testID
		}, "its manifest is missing"},
		{"a manifest fraise did not write", func(t *testing.T, name string) output.Identity {
			if err := os.WriteFile(filepath.Join(output.ResumeDir(name), "manifest.json"), []byte("{\"version\": 9}"), 0o600); err != nil {
				t.Fatal(err)
			}
			return testID
		}, "its manifest is of version 9, not 1"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			name := setup(t)
			id := tc.change(t, name)
			_, err := output.OpenSegments(name, output.None, id, false, output.Run{})
			var re *output.ResumeError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--resume=restart") {
				t.Fatalf("OpenSegments: %v; want a *ResumeError saying %q and naming --resume=restart", err, tc.want)
			}
			s, err := output.OpenSegments(name, output.None, id, true, output.Run{})
			if err != nil || len(s.Sealed()) != 0 {
				t.Fatalf("restart: %v, sealed %+v; want a fresh start", err, s)
			}
			s.Close()
		})
	}
}

// TestSegmentsPublishFails: a Publish that cannot write the output keeps
// the segments and the manifest, so that the next run resumes.
func TestSegmentsPublishFails(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "out.ndjson")
	s, err := output.OpenSegments(name, output.Zstd, testID, false, output.Run{})
	if err != nil {
		t.Fatal(err)
	}
	writeSegment(t, s, 0, 100)
	if err := os.Mkdir(name, 0o700); err != nil { // the output's name is taken by a directory
		t.Fatal(err)
	}
	if err := s.Publish(nil); err == nil {
		t.Fatal("Publish onto a directory succeeded")
	}
	s.Close()
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	s2, err := output.OpenSegments(name, output.Zstd, testID, false, output.Run{})
	if err != nil || len(s2.Sealed()) != 1 {
		t.Fatalf("after a failed Publish: %v, %d sealed; want the segment kept", err, len(s2.Sealed()))
	}
	if err := s2.Publish(nil); err != nil {
		t.Fatal(err)
	}
	got := published(t, name, segmentCodecs[2].decode)
	if string(got) != wantLines(0, 100) {
		t.Errorf("published %q…", got[:min(len(got), 80)])
	}
}

// TestSegmentsNoDirectory: the output's directory must exist: a resumable
// output does not create it.
func TestSegmentsNoDirectory(t *testing.T) {
	name := filepath.Join(t.TempDir(), "missing", "out.ndjson")
	_, err := output.OpenSegments(name, output.None, testID, false, output.Run{})
	var we *output.WriteError
	if !errors.As(err, &we) || !strings.Contains(err.Error(), "cannot create a directory beside") {
		t.Fatalf("OpenSegments: %v; want a WriteError", err)
	}
	if _, err := os.Stat(filepath.Dir(name)); !os.IsNotExist(err) {
		t.Errorf("the output's directory was created: %v", err)
	}
}

// TestSegmentsSealWhileWriting: seals handed to the sealer's goroutine
// while the next segments are written are all recorded, in order, by the
// time Publish runs, and the file is every segment's lines.
func TestSegmentsSealWhileWriting(t *testing.T) {
	name := filepath.Join(t.TempDir(), "out.ndjson.zst")
	s, err := output.OpenSegments(name, output.Zstd, testID, false, output.Run{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		w, err := s.Writer()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, wantLines(i*50, (i+1)*50))
		if err := s.Seal([]string{fmt.Sprint((i+1)*50 - 1)}, 50, 50); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Publish(nil); err != nil {
		t.Fatal(err)
	}
	got := published(t, name, segmentCodecs[2].decode)
	if string(got) != wantLines(0, 1000) {
		t.Errorf("published %d bytes, want %d", len(got), len(wantLines(0, 1000)))
	}
	if sealed := s.Sealed(); len(sealed) != 20 || sealed[19].LastKey[0] != "999" {
		t.Errorf("%d segments recorded, want 20 ending at key 999", len(sealed))
	}
}

// TestSegmentsOneRunAtATime: while a run writes a resumable output,
// another run of it is refused (it would cut the data file back under the
// first); once the first ends, the next may go on.
func TestSegmentsOneRunAtATime(t *testing.T) {
	name := filepath.Join(t.TempDir(), "out.ndjson")
	s, err := output.OpenSegments(name, output.None, testID, false, output.Run{})
	if err != nil {
		t.Fatal(err)
	}
	writeSegment(t, s, 0, 10)
	w, err := s.Writer()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, wantLines(10, 20))
	_, err = output.OpenSegments(name, output.None, testID, false, output.Run{})
	var re *output.ResumeError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "another fraise run is writing it now") {
		t.Fatalf("a second run: %v; want it refused", err)
	}
	if err := s.Seal([]string{"19"}, 10, 10); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := output.OpenSegments(name, output.None, testID, false, output.Run{})
	if err != nil || len(s2.Sealed()) != 2 {
		t.Fatalf("after the first run: %v; want its 2 segments", err)
	}
	if err := s2.Publish(nil); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(name); err != nil || string(got) != wantLines(0, 20) {
		t.Errorf("published %q (%v)", got, err)
	}
}

// TestSegmentsCompleteAndPublished: an output recorded complete is
// published by the next run as it is; one whose data file was renamed
// onto the output before its directory was removed starts afresh; an
// empty compressed output is one empty frame.
func TestSegmentsCompleteAndPublished(t *testing.T) {
	name := filepath.Join(t.TempDir(), "out.ndjson.gz")
	s, err := output.OpenSegments(name, output.Gzip, testID, false, output.Run{})
	if err != nil {
		t.Fatal(err)
	}
	writeSegment(t, s, 0, 10)
	if err := s.Complete(); err != nil {
		t.Fatal(err)
	}
	output.Kill(s)
	s2, err := output.OpenSegments(name, output.Gzip, testID, false, output.Run{})
	if err != nil || !s2.IsComplete() {
		t.Fatalf("reopened: %v, complete %v; want complete", err, s2 != nil && s2.IsComplete())
	}
	if err := s2.Publish(nil); err != nil {
		t.Fatal(err)
	}
	// A crash between the rename and the removal of the directory.
	dir := output.ResumeDir(name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"version":1,"identity":{"hash":"h1"},"segments":[{"offset":0,"bytes":5,"crc32c":"00000000"}],"complete":true,"published":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "segments"), []byte(`{"offset":0,"bytes":5,"crc32c":"00000000","rows":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Another command, even: the output was published.
	other := output.Identity{Hash: "h2"}
	s3, err := output.OpenSegments(name, output.Gzip, other, false, output.Run{})
	if err != nil || len(s3.Sealed()) != 0 || s3.IsComplete() {
		t.Fatalf("after a published output's leftover directory: %v; want a fresh start", err)
	}
	// Its journal went with it: a segment of this run, then a kill,
	// leave this run's one segment to resume.
	writeSegment(t, s3, 0, 3)
	output.Kill(s3)
	s4, err := output.OpenSegments(name, output.Gzip, other, false, output.Run{})
	if err != nil || len(s4.Sealed()) != 1 {
		t.Fatalf("resuming after a fresh start: %v; want its one segment", err)
	}
	s4.Close()
	s3, err = output.OpenSegments(name, output.Gzip, other, true, output.Run{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.Publish(nil); err != nil {
		t.Fatal(err)
	}
	if b := published(t, name, segmentCodecs[1].decode); len(b) != 0 {
		t.Errorf("empty output decompresses to %q", b)
	}
}

// published reads the output name, decoded: a file that does not decode
// fails the test.
func published(t *testing.T, name string, decode func(io.Reader) (io.Reader, error)) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s does not decode: %v", name, err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s does not decode: %v", name, err)
	}
	return got
}
