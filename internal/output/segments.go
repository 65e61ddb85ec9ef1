// Resumable output (--resume): the output is written as sealed segments,
// each a complete piece of the final file (whole lines; compressed, an
// independent gzip member or zstd frame, so that the pieces concatenated
// are one valid compressed file), one after the other in one data file,
// synced and recorded in a manifest, both in a directory beside the
// output. A run that ends early keeps the sealed segments (the data file
// is cut back to them when the next run opens it); the next run of the
// same command appends to them, and the run that completes renames the
// data file onto the output's name, atomically, as CreateFile's Commit
// does, and removes the directory: nothing is copied.

package output

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// resumeSuffix ends the name of the directory of a resumable output:
// .NAME.fraise-resume beside NAME.
const resumeSuffix = ".fraise-resume"

// manifestName is the manifest's file in that directory, dataName the
// data file's.
const (
	manifestName = "manifest.json"
	dataName     = "data"
)

// castagnoli is the CRC-32C table: the CPU computes it (SSE 4.2, ARMv8).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

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
	// Offset is where the segment starts in the data file.
	Offset int64 `json:"offset"`
	// LastKey is the key of the segment's last row, in the server's text
	// form, one value per key expression.
	LastKey []string `json:"last_key"`
	// Rows are the rows read for the segment; Lines the lines written.
	Rows  int64 `json:"rows"`
	Lines int64 `json:"lines"`
	// Bytes and CRC32C are the segment's size and checksum (CRC-32C,
	// Castagnoli: computed by the CPU at memory speed, where SHA-256 cost
	// a resumable run 10% of its time; it finds a segment changed by
	// accident, not one forged along with the manifest, which no digest
	// kept beside it could).
	Bytes  int64  `json:"bytes"`
	CRC32C string `json:"crc32c"`
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
	final string // the output's name, links followed
	dir   string
	comp  Compression
	m     Manifest
	run   int   // this run's index in m.Runs
	end   int64 // the end of the segments sealed or being sealed
	// durable is the end of the segments the manifest records.
	durable int64
	// mm guards m against the sealer's goroutine.
	mm sync.Mutex

	// seals are the segments ended and not yet synced and recorded, which
	// the sealer's goroutine takes in order (sealLoop); sealed is closed
	// when it is done; sealErr is its first error.
	seals   chan sealJob
	sealed  chan struct{}
	sealErr atomic.Pointer[error]

	// mu guards f against Abandon from another goroutine (a forced
	// exit) while the writer's goroutine writes or seals.
	mu   sync.Mutex
	f    *os.File // the data file, nil until written
	open bool     // a segment is under way
	sum  hash.Hash
	size atomic.Int64 // bytes of the current segment
	zw   io.WriteCloser
	w    io.Writer
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
// their checksums, or a new directory. restart discards an earlier run's
// segments first. This run is recorded as run.
func OpenSegments(final string, c Compression, id Identity, restart bool, run Run) (*Segments, error) {
	if fi, err := os.Stat(final); err == nil && !fi.IsDir() && !fi.Mode().IsRegular() {
		return nil, &WriteError{Err: syscall.EINVAL, Msg: fmt.Sprintf("cannot write %s with --resume: it is not a regular file (a device or a pipe cannot be taken back and continued); write a file, or leave --resume out", quoteName(final))}
	}
	resolved, err := resolve(final)
	if err != nil {
		return nil, fileError(final, "cannot use", err)
	}
	s := &Segments{final: resolved, dir: ResumeDir(resolved), comp: c}
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

// load reads and checks the manifest and the data file, or starts them.
func (s *Segments) load(id Identity) error {
	data, err := os.ReadFile(filepath.Join(s.dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(s.dir, dataName)); err == nil {
			return s.refuse("its manifest is missing, so its data cannot be trusted")
		}
		// Beside the output, whose directory must exist: it is not created.
		if err := os.Mkdir(s.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fileError(s.final, "cannot create a directory beside", unwrapPath(err))
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
	return s.verify()
}

// LastSealedKey reads, without changing anything, the key of the last
// segment sealed in the resumable output final for the command id: nil
// when there is none, or when an earlier run's output belongs to another
// command (the run would refuse it).
func LastSealedKey(final string, id Identity) ([]string, error) {
	resolved, err := resolve(final)
	if err != nil {
		return nil, fileError(final, "cannot use", err)
	}
	data, err := os.ReadFile(filepath.Join(ResumeDir(resolved), manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fileError(ResumeDir(resolved), "cannot read", unwrapPath(err))
	}
	var m Manifest
	if json.Unmarshal(data, &m) != nil || m.Version != manifestVersion || m.Identity.Hash != id.Hash || len(m.Segments) == 0 {
		return nil, nil
	}
	return m.Segments[len(m.Segments)-1].LastKey, nil
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

// verify checks the sealed segments against their sizes and checksums,
// and cuts the data file back to their end: what a run wrote after its
// last seal is not kept.
func (s *Segments) verify() error {
	name := filepath.Join(s.dir, dataName)
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) && len(s.m.Segments) == 0 {
		return nil
	}
	if err != nil {
		return s.refuse("its data file cannot be opened (%v)", unwrapPath(err))
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for i, seg := range s.m.Segments {
		if seg.Offset != s.end {
			return s.refuse("segment %d of %d does not start where the one before ends", i+1, len(s.m.Segments))
		}
		h := crc32.New(castagnoli)
		n, err := io.CopyN(h, r, seg.Bytes)
		if err != nil && !errors.Is(err, io.EOF) {
			return s.refuse("segment %d of %d cannot be read (%v)", i+1, len(s.m.Segments), unwrapPath(err))
		}
		if n != seg.Bytes {
			return s.refuse("segment %d of %d is missing: the data file ends %d bytes into it", i+1, len(s.m.Segments), n)
		}
		if hex.EncodeToString(h.Sum(nil)) != seg.CRC32C {
			return s.refuse("segment %d of %d does not match its checksum: the data file was changed after it was sealed", i+1, len(s.m.Segments))
		}
		s.end += seg.Bytes
	}
	s.durable = s.end
	if err := f.Truncate(s.end); err != nil {
		return fileError(name, "cannot cut back", unwrapPath(err))
	}
	return nil
}

// Sealed returns the sealed segments, oldest first.
func (s *Segments) Sealed() []Segment {
	s.mm.Lock()
	defer s.mm.Unlock()
	return slices.Clone(s.m.Segments)
}

// Runs returns the runs recorded, this one last.
func (s *Segments) Runs() []Run {
	s.mm.Lock()
	defer s.mm.Unlock()
	return slices.Clone(s.m.Runs)
}

// SetRun says what this run is, recorded with its first seal.
func (s *Segments) SetRun(r Run) {
	s.mm.Lock()
	defer s.mm.Unlock()
	s.m.Runs[s.run] = r
}

// Final is the output's name.
func (s *Segments) Final() string { return s.final }

// Writer returns the writer of the current segment, starting one when
// none is open. What it is given goes into the next sealed segment.
func (s *Segments) Writer() (io.Writer, error) {
	if s.open {
		return s.w, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		name := filepath.Join(s.dir, dataName)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o600)
		if err == nil {
			_, err = f.Seek(s.end, io.SeekStart)
			if err != nil {
				_ = f.Close()
			}
		}
		if err != nil {
			return nil, fileError(s.final, "cannot write", unwrapPath(err))
		}
		s.f = f
	}
	s.open, s.sum = true, crc32.New(castagnoli)
	s.size.Store(0)
	var sink io.Writer = &segmentWriter{s: s}
	s.w, s.zw = sink, nil
	if s.comp != None {
		zw, err := s.comp.compressor(sink)
		if err != nil {
			s.open = false
			return nil, fmt.Errorf("cannot start %s compression: %w", s.comp, err)
		}
		s.w, s.zw = zw, zw
	}
	return s.w, nil
}

// segmentWriter writes the current segment into the data file and its
// checksum.
type segmentWriter struct{ s *Segments }

func (w *segmentWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.f == nil {
		return 0, &WriteError{Err: errAborted, Msg: "the output to " + quoteName(w.s.final) + " was abandoned before it was complete"}
	}
	n, err := w.s.f.Write(p)
	w.s.sum.Write(p[:n])
	w.s.size.Add(int64(n))
	w.s.written.Add(int64(n))
	if err != nil {
		return n, fileError(w.s.final, "cannot write", unwrapPath(err))
	}
	return n, nil
}

// Pending reports whether a segment is open: bytes were asked for since
// the last seal.
func (s *Segments) Pending() bool { return s.open }

// Size is the current segment's size so far, after compression.
func (s *Segments) Size() int64 { return s.size.Load() }

// Written is the bytes this run wrote into segments, after compression.
func (s *Segments) Written() int64 { return s.written.Load() }

// Seal ends the current segment after what was written to it: its
// compressed stream is ended, and the segment, with the key of its last
// row, its rows and lines, is handed to the sealer's goroutine, which
// syncs the data file and then records the segment in the manifest,
// synced itself; only then does the segment count. The writer goes on
// meanwhile (a sync stalls for as long as the disk takes to write what
// it holds). Wait waits for the seals handed over; an error of the sealer
// is returned by the next Seal, or by Wait.
func (s *Segments) Seal(lastKey []string, rows, lines int64) error {
	if !s.open {
		if _, err := s.Writer(); err != nil {
			return err
		}
	}
	if s.zw != nil {
		if err := s.zw.Close(); err != nil {
			return asWriteError(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open = false
	if s.f == nil {
		return &WriteError{Err: errAborted, Msg: "the output to " + quoteName(s.final) + " was abandoned before it was complete"}
	}
	if err := s.sealError(); err != nil {
		return err
	}
	size := s.size.Load()
	seg := Segment{
		Offset: s.end, LastKey: lastKey, Rows: rows, Lines: lines,
		Bytes: size, CRC32C: hex.EncodeToString(s.sum.Sum(nil)), Run: s.run,
	}
	s.end += size
	if s.seals == nil {
		s.seals, s.sealed = make(chan sealJob, maxPendingSeals), make(chan struct{})
		go s.sealLoop(s.seals, s.sealed)
	}
	s.seals <- sealJob{f: s.f, seg: seg}
	return nil
}

// maxPendingSeals bounds the segments ended and not yet synced: the
// writer waits for the disk beyond them.
const maxPendingSeals = 4

// sealJob is a segment to make durable: the data file, and the segment's
// record.
type sealJob struct {
	f   *os.File
	seg Segment
}

// sealLoop syncs the data file for each segment in turn and records it.
func (s *Segments) sealLoop(jobs <-chan sealJob, done chan<- struct{}) {
	defer close(done)
	for j := range jobs {
		if s.sealError() != nil {
			continue
		}
		err := j.f.Sync()
		if err != nil {
			err = fileError(s.final, "cannot write", unwrapPath(err))
		} else {
			s.mm.Lock()
			s.m.Segments = append(s.m.Segments, j.seg)
			err = s.save()
			s.mm.Unlock()
		}
		if err != nil {
			s.sealErr.CompareAndSwap(nil, &err)
			continue
		}
		s.mm.Lock()
		s.durable = j.seg.Offset + j.seg.Bytes
		s.mm.Unlock()
	}
}

// sealError is the sealer's first error.
func (s *Segments) sealError() error {
	if p := s.sealErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Wait waits until every segment sealed is synced and recorded, and
// returns the first error doing it.
func (s *Segments) Wait() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain()
	return s.sealError()
}

// drain waits for the sealer, under mu.
func (s *Segments) drain() {
	if s.seals != nil {
		close(s.seals)
		<-s.sealed
		s.seals, s.sealed = nil, nil
	}
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

// Abandon waits for the seals under way, drops the segment being written,
// unsealed, and closes the data file; the sealed segments and the
// manifest stay for the next run.
func (s *Segments) Abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain()
	s.open = false
	if s.f == nil {
		return
	}
	_ = s.f.Truncate(s.durable)
	_ = s.f.Close()
	s.f = nil
}

// Close ends this run's use of the output, as Abandon; when no segment
// is sealed, nothing is left to resume, and the directory is removed.
func (s *Segments) Close() {
	s.Abandon()
	if len(s.Sealed()) == 0 {
		_ = os.RemoveAll(s.dir)
	}
}

// Publish puts the sealed segments, then tail (the end of a JSON array;
// compressed on its own when the output is), under the output's name as
// CreateFile's Commit does: the data file, synced, gets the mode a new
// output gets (a replaced one's), and is renamed onto the name; then the
// directory is removed. A segment still open is abandoned. Until the
// output is published the manifest is left as it was: a failed Publish
// can be resumed.
func (s *Segments) Publish(tail []byte) error {
	s.Abandon()
	if err := s.sealError(); err != nil {
		return err
	}
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
	final, mode, err := regularTarget(s.final)
	if err != nil {
		return err
	}
	data := filepath.Join(s.dir, dataName)
	f, err := os.OpenFile(data, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fileError(s.final, "cannot write", unwrapPath(err))
	}
	_, err = f.WriteAt(tail, s.durable)
	if err == nil {
		err = f.Truncate(s.durable + int64(len(tail)))
	}
	if err == nil {
		_ = f.Chmod(mode) // a file system without modes keeps its own
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fileError(s.final, "cannot write", unwrapPath(err))
	}
	if err := os.Rename(data, final); err != nil {
		return fileError(s.final, "cannot rename the finished output onto", unwrapPath(err))
	}
	syncDir(filepath.Dir(final))
	if err := os.RemoveAll(s.dir); err != nil {
		return fileError(s.dir, "published the output but cannot remove", unwrapPath(err))
	}
	return nil
}
