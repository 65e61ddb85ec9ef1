// Resumable output (--resume): the output is written as sealed segments,
// each a complete piece of the final file (whole lines; compressed, an
// independent gzip member or zstd frame, so that the pieces concatenated
// are one valid compressed file), synced and recorded in a manifest in a
// directory beside the output. A run that ends early keeps the sealed
// segments; the next run of the same command appends to them, and the
// run that completes publishes their concatenation under the output's
// name, atomically, and removes the directory.

package output

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
)

// resumeSuffix ends the name of the directory of a resumable output:
// .NAME.fraise-resume beside NAME.
const resumeSuffix = ".fraise-resume"

// manifestName is the manifest's file in that directory.
const manifestName = "manifest.json"

// manifestVersion is the manifest's format; another is refused.
const manifestVersion = 1

// Identity says which command an output belongs to: a resumed run must be
// the same command.
type Identity struct {
	// Hash is a digest of everything that decides the output's bytes.
	Hash string `json:"hash"`
	// Values are the same things, readable, to say what differs.
	Values map[string]string `json:"values"`
}

// Manifest records a resumable output's sealed segments.
type Manifest struct {
	Version  int       `json:"version"`
	Identity Identity  `json:"identity"`
	Segments []Segment `json:"segments"`
	// Runs are the runs that sealed segments, oldest first.
	Runs []Run `json:"runs,omitempty"`
}

// Segment is one sealed piece of the output.
type Segment struct {
	// File is the segment's file name in the directory.
	File string `json:"file"`
	// LastKey is the key of the segment's last row, in the server's text
	// form, one value per key expression.
	LastKey []string `json:"last_key"`
	// Rows are the rows read for the segment; Lines the lines written.
	Rows  int64 `json:"rows"`
	Lines int64 `json:"lines"`
	// Bytes and SHA256 are the file's size and digest.
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Run is the index in Manifest.Runs of the run that sealed it.
	Run int `json:"run"`
}

// Run is what a run that sealed segments says of itself.
type Run struct {
	// Server is the server's version; Snapshot the time its snapshot was
	// taken, as the server said it.
	Server   string `json:"server,omitempty"`
	Snapshot string `json:"snapshot,omitempty"`
}

// ResumeError refuses to resume an output: the message says what differs
// and what to do.
type ResumeError struct{ Msg string }

func (e *ResumeError) Error() string { return e.Msg }

// Segments is a resumable output under way.
type Segments struct {
	final string // the output's name
	dir   string
	comp  Compression
	m     Manifest
	run   int // this run's index in m.Runs

	cur     *os.File // the segment being written, nil between segments
	curName string
	sum     hash.Hash
	size    atomic.Int64 // bytes of the current segment
	zw      io.WriteCloser
	w       io.Writer
	// written counts the bytes of every segment, sealed or not, this run.
	written atomic.Int64
}

// ResumeDir is the directory of the resumable output named final.
func ResumeDir(final string) string {
	dir, base := filepath.Split(final)
	return filepath.Join(dir, "."+base+resumeSuffix)
}

// OpenSegments opens the resumable output final for the command id: the
// sealed segments of an earlier run of the same command, checked against
// their digests, or a new directory. restart discards an earlier run's
// segments first. This run is recorded as run.
func OpenSegments(final string, c Compression, id Identity, restart bool, run Run) (*Segments, error) {
	s := &Segments{final: final, dir: ResumeDir(final), comp: c}
	if restart {
		if err := os.RemoveAll(s.dir); err != nil {
			return nil, fileError(s.dir, "cannot remove", unwrapPath(err))
		}
	}
	if err := s.load(id); err != nil {
		return nil, err
	}
	s.m.Runs = append(s.m.Runs, run)
	s.run = len(s.m.Runs) - 1
	return s, nil
}

// load reads and checks the manifest, or starts one.
func (s *Segments) load(id Identity) error {
	data, err := os.ReadFile(filepath.Join(s.dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return fileError(s.dir, "cannot create", unwrapPath(err))
		}
		s.m = Manifest{Version: manifestVersion, Identity: id}
		return s.save()
	}
	if err != nil {
		return fileError(s.dir, "cannot read", unwrapPath(err))
	}
	if err := json.Unmarshal(data, &s.m); err != nil || s.m.Version != manifestVersion {
		return s.refuse("its manifest is not one this fraise wrote (%v)", err)
	}
	if s.m.Identity.Hash != id.Hash {
		return s.refuse("it was written by another command: %s", differences(s.m.Identity.Values, id.Values))
	}
	for i, seg := range s.m.Segments {
		if err := s.verify(seg); err != nil {
			return s.refuse("segment %d of %d %s", i+1, len(s.m.Segments), err)
		}
	}
	s.dropParts()
	return nil
}

// refuse is a ResumeError about the directory.
func (s *Segments) refuse(format string, a ...any) error {
	return &ResumeError{Msg: fmt.Sprintf("cannot resume the output in %s: ", quoteName(s.dir)) + fmt.Sprintf(format, a...) +
		"; run the same command again, or give --resume=restart to discard it and start over"}
}

// differences says which readable values of two identities differ.
func differences(was, is map[string]string) string {
	var out []string
	for k, v := range is {
		if was[k] != v {
			out = append(out, fmt.Sprintf("%s was %q, is %q", k, was[k], v))
		}
	}
	for k, v := range was {
		if _, ok := is[k]; !ok {
			out = append(out, fmt.Sprintf("%s was %q, is not given", k, v))
		}
	}
	if len(out) == 0 {
		return "the same settings, another digest"
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// verify checks a sealed segment's size and digest.
func (s *Segments) verify(seg Segment) error {
	f, err := os.Open(filepath.Join(s.dir, seg.File))
	if err != nil {
		return fmt.Errorf("is missing (%v)", unwrapPath(err))
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("cannot be read (%v)", unwrapPath(err))
	}
	if n != seg.Bytes || hex.EncodeToString(h.Sum(nil)) != seg.SHA256 {
		return fmt.Errorf("(%s) does not match its digest: it was changed after it was sealed", seg.File)
	}
	return nil
}

// dropParts removes what a killed run left of a segment it did not seal.
func (s *Segments) dropParts() {
	parts, _ := filepath.Glob(filepath.Join(s.dir, "*.part"))
	for _, p := range parts {
		_ = os.Remove(p)
	}
}

// Sealed returns the sealed segments, oldest first.
func (s *Segments) Sealed() []Segment { return s.m.Segments }

// Runs returns the runs recorded, this one last.
func (s *Segments) Runs() []Run { return s.m.Runs }

// Writer returns the writer of the current segment, starting one when
// none is open. What it is given goes into the next sealed segment.
func (s *Segments) Writer() (io.Writer, error) {
	if s.cur != nil {
		return s.w, nil
	}
	name := fmt.Sprintf("segment-%06d", len(s.m.Segments)+1)
	f, err := os.OpenFile(filepath.Join(s.dir, name+".part"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fileError(s.dir, "cannot create a segment in", unwrapPath(err))
	}
	s.cur, s.curName, s.sum = f, name, sha256.New()
	s.size.Store(0)
	var sink io.Writer = &segmentWriter{s: s}
	s.w, s.zw = sink, nil
	if s.comp != None {
		zw, err := s.comp.compressor(sink)
		if err != nil {
			s.Abandon()
			return nil, fmt.Errorf("cannot start %s compression: %w", s.comp, err)
		}
		s.w, s.zw = zw, zw
	}
	return s.w, nil
}

// segmentWriter writes the current segment's file and digest.
type segmentWriter struct{ s *Segments }

func (w *segmentWriter) Write(p []byte) (int, error) {
	n, err := w.s.cur.Write(p)
	w.s.sum.Write(p[:n])
	w.s.size.Add(int64(n))
	w.s.written.Add(int64(n))
	if err != nil {
		return n, fileError(w.s.final, "cannot write a segment of", unwrapPath(err))
	}
	return n, nil
}

// Pending reports whether a segment is open: bytes were asked for since
// the last seal.
func (s *Segments) Pending() bool { return s.cur != nil }

// Size is the current segment's size so far, after compression.
func (s *Segments) Size() int64 { return s.size.Load() }

// Written is the bytes this run wrote into segments, after compression.
func (s *Segments) Written() int64 { return s.written.Load() }

// Seal ends the current segment after what was written to it: its
// compressed stream is ended, the file synced and named, and the manifest
// records it with the key of its last row, its rows and lines, and then
// is synced itself. Only then does the segment count.
func (s *Segments) Seal(lastKey []string, rows, lines int64) error {
	if s.cur == nil {
		if _, err := s.Writer(); err != nil {
			return err
		}
	}
	if s.zw != nil {
		if err := s.zw.Close(); err != nil {
			return asWriteError(err)
		}
	}
	f, name := s.cur, s.curName
	s.cur = nil
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fileError(s.final, "cannot write a segment of", unwrapPath(err))
	}
	if err := f.Close(); err != nil {
		return fileError(s.final, "cannot write a segment of", unwrapPath(err))
	}
	if err := os.Rename(filepath.Join(s.dir, name+".part"), filepath.Join(s.dir, name)); err != nil {
		return fileError(s.dir, "cannot name a segment in", unwrapPath(err))
	}
	s.m.Segments = append(s.m.Segments, Segment{
		File: name, LastKey: lastKey, Rows: rows, Lines: lines,
		Bytes: s.size.Load(), SHA256: hex.EncodeToString(s.sum.Sum(nil)), Run: s.run,
	})
	return s.save()
}

// save writes the manifest durably: a temporary file synced and renamed
// over it, the directory synced.
func (s *Segments) save() error {
	data, err := json.MarshalIndent(s.m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.dir, manifestName+".part")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		_, err = f.Write(append(data, '\n'))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, manifestName))
	}
	if err != nil {
		return fileError(s.dir, "cannot write the manifest in", unwrapPath(err))
	}
	syncDir(s.dir)
	return nil
}

// syncDir makes a rename in dir durable, where the file system allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Abandon drops the segment being written, unsealed; the sealed ones and
// the manifest stay for the next run.
func (s *Segments) Abandon() {
	if s.cur == nil {
		return
	}
	_ = s.cur.Close()
	_ = os.Remove(filepath.Join(s.dir, s.curName+".part"))
	s.cur = nil
}

// Publish puts the concatenation of the sealed segments, then tail (the
// end of a JSON array; compressed on its own when the output is), under
// the output's name as CreateFile's Commit does, and removes the
// directory. A segment still open is abandoned. Until the output is
// published the manifest is left as it was: a failed Publish can be
// resumed.
func (s *Segments) Publish(tail []byte) error {
	s.Abandon()
	if len(tail) > 0 && s.comp != None {
		var buf bytes.Buffer
		zw, err := s.comp.compressor(&buf)
		if err == nil {
			_, err = zw.Write(tail)
		}
		if err == nil {
			err = zw.Close()
		}
		if err != nil {
			return fmt.Errorf("cannot compress the end of the output: %w", err)
		}
		tail = buf.Bytes()
	}
	out, err := CreateFile(s.final)
	if err != nil {
		return err
	}
	for _, seg := range s.m.Segments {
		if err := appendFile(out, filepath.Join(s.dir, seg.File)); err != nil {
			out.Abort()
			return err
		}
	}
	if _, err := out.Write(tail); err != nil {
		out.Abort()
		return err
	}
	if err := out.Commit(); err != nil {
		return err
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fileError(s.dir, "published the output but cannot remove", unwrapPath(err))
	}
	return nil
}

// appendFile copies the file name to the end of out.
func appendFile(out *File, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fileError(name, "cannot read", unwrapPath(err))
	}
	defer f.Close()
	_, err = io.Copy(out, f)
	return err
}
