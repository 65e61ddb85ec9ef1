package output

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// Writer returns the writer of the current segment, starting one when
// none is open. What it is given goes into the next sealed segment.
func (s *Segments) Writer() (io.Writer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open {
		return s.w, nil
	}
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
		// One compressor for every segment, reset for each: a new one
		// each time would allocate its windows and buffers anew.
		if s.enc == nil {
			zw, err := s.comp.compressor(sink)
			if err != nil {
				s.open = false
				return nil, fmt.Errorf("cannot start %s compression: %w", s.comp, err)
			}
			s.enc = zw.(resettable)
		} else {
			s.comp.reset(s.enc, sink)
		}
		s.w, s.zw = s.enc, s.enc
	}
	return s.w, nil
}

// resettable is a compressor that starts a new stream (a gzip member, a
// zstd frame) on another writer.
type resettable interface {
	io.WriteCloser
	Reset(w io.Writer)
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
	if _, err := s.Writer(); err != nil { // an empty segment: opened
		return err
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
			err = s.record(j.seg)
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

// record records a segment whose data is synced: with the first of a
// run, the manifest (which names the run) is saved first; then the
// segment's line is appended to the journal and synced.
func (s *Segments) record(seg Segment) error {
	s.mm.Lock()
	defer s.mm.Unlock()
	if !s.runSaved {
		if err := s.save(); err != nil {
			return err
		}
		s.runSaved = true
	}
	line, err := json.Marshal(seg)
	if err != nil {
		return err
	}
	if s.journal == nil {
		name := filepath.Join(s.dir, journalName)
		if s.journal, err = os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			return fileError(s.dir, "cannot write the journal in", unwrapPath(err))
		}
		syncDir(s.dir) // the journal's name, durable
	}
	if _, err = s.journal.Write(append(line, '\n')); err == nil {
		err = s.journal.Sync()
	}
	if err != nil {
		return fileError(s.dir, "cannot write the journal in", unwrapPath(err))
	}
	s.m.Segments = append(s.m.Segments, seg)
	return nil
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
	if s.journal != nil {
		_ = s.journal.Close()
		s.journal = nil
	}
	if s.f == nil {
		return
	}
	_ = s.f.Truncate(s.durable)
	_ = s.f.Close()
	s.f = nil
}

// Close ends this run's use of the output, as Abandon, and lets another
// run write it; when no segment is sealed, nothing is left to resume,
// and the directory is removed.
func (s *Segments) Close() {
	s.Abandon()
	if s.opened && !s.m.Published && len(s.Sealed()) == 0 {
		_ = os.RemoveAll(s.dir)
	}
	s.unlock()
}

// Complete records that the output is whole once every seal handed over
// is: the next run publishes it as it is.
func (s *Segments) Complete() error {
	if err := s.Wait(); err != nil {
		return err
	}
	s.mm.Lock()
	defer s.mm.Unlock()
	s.m.Complete = true
	return s.save()
}

// IsComplete reports whether an earlier run left the output whole, only
// to publish.
func (s *Segments) IsComplete() bool {
	s.mm.Lock()
	defer s.mm.Unlock()
	return s.m.Complete
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
	// An output without a line is still a valid compressed file: one
	// empty frame, as -o writes.
	if s.comp != None && (len(tail) > 0 || s.durable == 0) {
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
	s.mm.Lock()
	s.m.Published = true
	err = s.save()
	s.mm.Unlock()
	if err != nil {
		return err
	}
	if err := os.Rename(data, final); err != nil {
		return fileError(s.final, "cannot rename the finished output onto", unwrapPath(err))
	}
	syncDir(filepath.Dir(final))
	err = os.RemoveAll(s.dir)
	s.unlock()
	if err != nil {
		return fileError(s.dir, "published the output but cannot remove", unwrapPath(err))
	}
	return nil
}
