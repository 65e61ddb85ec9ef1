package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The journal of a resumable output: one JSON line per sealed segment,
// appended and synced as each is sealed (segments_write.go's record),
// read back when a run opens the output.

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
	if json.Unmarshal(data, &m) != nil || m.Version != manifestVersion || m.Identity.Hash != id.Hash {
		return nil, nil
	}
	segs, _, err := readSegments(filepath.Join(ResumeDir(resolved), journalName))
	if err != nil || len(segs) == 0 {
		return nil, err
	}
	return segs[len(segs)-1].LastKey, nil
}

// readJournal reads the sealed segments from the journal, and cuts off
// what a run killed while appending left of a line.
func (s *Segments) readJournal() error {
	name := filepath.Join(s.dir, journalName)
	segs, whole, err := readSegments(name)
	if err != nil {
		return err
	}
	s.m.Segments = segs
	if fi, err := os.Stat(name); err == nil && fi.Size() > whole {
		if err := os.Truncate(name, whole); err != nil {
			return fileError(name, "cannot cut back", unwrapPath(err))
		}
	}
	return nil
}

// readSegments reads a journal: its segments, and the length of its
// whole lines. A last line without its newline was never synced whole:
// it does not count.
func readSegments(name string) ([]Segment, int64, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fileError(name, "cannot read", unwrapPath(err))
	}
	var segs []Segment
	var whole int64
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		var seg Segment
		if err := json.Unmarshal(data[:i], &seg); err != nil {
			return nil, 0, &ResumeError{Msg: fmt.Sprintf("cannot resume the output in %s: its journal of segments is not one this fraise wrote (%v); "+
				"give --resume=restart to discard it and start over", quoteName(filepath.Dir(name)), err)}
		}
		segs = append(segs, seg)
		whole += int64(i + 1)
		data = data[i+1:]
	}
	return segs, whole, nil
}
