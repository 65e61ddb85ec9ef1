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
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
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
// data file's, lockName the file a run holds locked while it writes,
// journalName the file that records the sealed segments, one JSON line
// each, appended (the manifest, rewritten, stays small).
const (
	manifestName = "manifest.json"
	dataName     = "data"
	lockName     = "lock"
	journalName  = "segments"
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
	Version  int      `json:"version"`
	Identity Identity `json:"identity"`
	// Segments are the sealed segments, kept in the journal, not in the
	// manifest's file.
	Segments []Segment `json:"-"`
	// Runs are the runs that sealed segments, oldest first.
	Runs []Run `json:"runs,omitempty"`
	// Settings are the session settings the key's text depends on, as
	// the first run had them.
	Settings map[string]string `json:"settings,omitempty"`
	// Complete: the last segment is sealed, the output whole; the next
	// run publishes it without reading a row (a run that stopped after
	// its last seal, or at jq's halt, whose last segment may end on a row
	// after the halt's).
	Complete bool `json:"complete,omitempty"`
	// Published: the data file is being renamed onto the output; when
	// it is gone, the output is there, and the directory only a leftover.
	Published bool `json:"published,omitempty"`
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
	// locked is the lock file, held from OpenSegments to Close or
	// Publish: one run at a time writes the output.
	locked *os.File
	// journal is the journal, open for appending once a segment is
	// recorded; runSaved: the manifest names this run (saved with its
	// first segment).
	journal  *os.File
	runSaved bool
	// enc is the compressor, reset for each segment.
	enc resettable
	// opened: OpenSegments succeeded; Close may remove what it made.
	opened bool
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
	// As -o checks it before connecting: a directory, or a file this
	// user may not replace, is refused now, not once the rows are read.
	resolved, _, err := regularTarget(final)
	if err != nil {
		return nil, err
	}
	s := &Segments{final: resolved, dir: ResumeDir(resolved), comp: c}
	// Beside the output, whose directory must exist: it is not created.
	if err := os.Mkdir(s.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fileError(final, "cannot create a directory beside", unwrapPath(err))
	}
	syncDir(filepath.Dir(s.dir))
	if err := s.lock(); err != nil {
		return nil, err
	}
	if err := s.start(id, restart); err != nil {
		s.unlock()
		return nil, err
	}
	s.m.Runs = append(s.m.Runs, run)
	s.run = len(s.m.Runs) - 1
	s.opened = true
	return s, nil
}

// start discards an earlier run's output (restart), or one published but
// for its directory, then loads what is there.
func (s *Segments) start(id Identity, restart bool) error {
	if restart {
		for _, name := range []string{manifestName, journalName, dataName} {
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fileError(s.dir, "cannot remove what is in", unwrapPath(err))
			}
		}
	}
	return s.load(id)
}

// load reads and checks the manifest and the data file, or starts them.
func (s *Segments) load(id Identity) error {
	data, err := os.ReadFile(filepath.Join(s.dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(s.dir, dataName)); err == nil {
			return s.refuse("its manifest is missing, so its data cannot be trusted")
		}
		return s.fresh(id)
	}
	if err != nil {
		return fileError(s.dir, "cannot read", unwrapPath(err))
	}
	if err := json.Unmarshal(data, &s.m); err != nil {
		return s.refuse("its manifest is not one this fraise wrote (%v)", err)
	}
	if s.m.Version != manifestVersion {
		return s.refuse("its manifest is of version %d, not %d: another fraise wrote it", s.m.Version, manifestVersion)
	}
	if _, err := os.Stat(filepath.Join(s.dir, dataName)); s.m.Published && errors.Is(err, fs.ErrNotExist) {
		// Renamed onto the output before the directory was removed: the
		// output is there, whole; this run, whatever its command, starts
		// a new one.
		return s.fresh(id)
	}
	if s.m.Identity.Hash != id.Hash {
		return s.refuse("it was written by another command: %s", differences(s.m.Identity.Values, id.Values))
	}
	if err := s.readJournal(); err != nil {
		return err
	}
	return s.verify()
}

// fresh starts a new output: no journal, a new manifest.
func (s *Segments) fresh(id Identity) error {
	if err := os.Remove(filepath.Join(s.dir, journalName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fileError(s.dir, "cannot remove what is in", unwrapPath(err))
	}
	s.m = Manifest{Version: manifestVersion, Identity: id}
	return s.save()
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

// KeySettings records the settings the key's text depends on, when no
// run has yet, and otherwise says which differ from the recorded ones
// ("" when none does).
func (s *Segments) KeySettings(cur map[string]string) string {
	s.mm.Lock()
	defer s.mm.Unlock()
	if len(s.m.Segments) == 0 || s.m.Settings == nil {
		s.m.Settings = cur
		return ""
	}
	if maps.Equal(s.m.Settings, cur) {
		return ""
	}
	return differences(s.m.Settings, cur)
}

// Final is the output's name.
func (s *Segments) Final() string { return s.final }

// lock takes the directory's lock: another run writing the same output
// at the same time would cut its data file back under it.
func (s *Segments) lock() error {
	name := filepath.Join(s.dir, lockName)
	for range 10 {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fileError(s.dir, "cannot lock", unwrapPath(err))
		}
		held, err := lockFile(f)
		if err != nil {
			_ = f.Close()
			return fileError(s.dir, "cannot lock", unwrapPath(err))
		}
		if !held {
			_ = f.Close()
			return &ResumeError{Msg: fmt.Sprintf("cannot resume the output in %s: another fraise run is writing it now; "+
				"wait for that run to end (or stop it), then run the command again", quoteName(s.dir))}
		}
		if !lockHeldOpen {
			// Where there is no lock, the file is not kept open: an
			// open file could not be removed with the directory.
			_ = f.Close()
			return nil
		}
		// A run that ended removed the directory, lock and all, between
		// the open and the lock: the lock held is on a file gone.
		if a, errA := f.Stat(); errA == nil && sameFile(a, name) {
			s.locked = f
			return nil
		}
		_ = f.Close()
		if err := os.Mkdir(s.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fileError(s.final, "cannot create a directory beside", unwrapPath(err))
		}
	}
	return &ResumeError{Msg: fmt.Sprintf("cannot resume the output in %s: its lock keeps being removed under this run by others", quoteName(s.dir))}
}

// sameFile reports whether the file at name is fi's.
func sameFile(fi os.FileInfo, name string) bool {
	at, err := os.Stat(name)
	return err == nil && os.SameFile(fi, at)
}

// unlock lets another run write the output.
func (s *Segments) unlock() {
	if s.locked != nil {
		_ = s.locked.Close()
		s.locked = nil
	}
}
