// The password file (~/.pgpass, PGPASSFILE, passfile=), per the libpq
// documentation, "The Password File" (§34.16), and fe-connect.c's
// passwordFromFile and pwdfMatchesString, which Lookup reproduces exactly.

package pgconf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"strings"
	"syscall"
)

// Passfile is a parsed password file: its candidate lines, in file order.
// Its String method does not reveal them.
//
// Each line is hostname:port:database:username:password. Fields are not
// split when the file is read but matched as libpq does when a password is
// looked up (see [Passfile.Lookup]), because libpq's matching depends on the
// value being matched: an unescaped ":" inside a field matches a ":" in the
// value, so both "\:\:1" and "::1" match the host "::1".
type Passfile struct {
	lines []string // CR/LF stripped, still escaped
}

// ParsePassfile reads a password file. As libpq does, it skips lines that
// start with "#" (only in the first column), blank lines, and lines that can
// never match (fewer than five fields, i.e. fewer than four ":"); it strips
// any run of trailing "\r" and "\n". Lines may be of any length. A line
// containing a NUL byte is skipped (libpq's handling of one depends on its
// read buffer boundaries). The only errors are r's.
func ParsePassfile(r io.Reader) (*Passfile, error) {
	br := bufio.NewReader(r)
	pf := &Passfile{}
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			pf.add(line)
		}
		if err == io.EOF {
			return pf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *Passfile) add(line string) {
	if line[0] == '#' {
		return
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" || strings.IndexByte(line, 0) >= 0 || strings.Count(line, ":") < 4 {
		return
	}
	p.lines = append(p.lines, line)
}

// Lookup returns the password of the first line that matches, and whether
// one did. It matches exactly like libpq's passwordFromFile:
//
//   - each of the four fields is compared with its value byte for byte,
//     case-sensitively; a field that is exactly "*" matches anything;
//   - a backslash makes the next character literal ("\:" is a colon, "\\"
//     a backslash, "\x" is "x"), and a field ending in a lone backslash
//     never matches;
//   - a field ends at the first unescaped ":" reached when the whole value
//     has been matched; an unescaped ":" met earlier is compared like any
//     character, so an IPv6 host may be written "\:\:1" or "::1";
//   - the password is the rest of the line up to the next unescaped ":"
//     (anything after it is ignored), with the same backslash rule except
//     that a lone trailing backslash is kept; it may be empty.
//
// Contract, as libpq applies it before reading the file: the caller passes
// the effective values. host is the host name being connected to, or its
// hostaddr when no host name was given, and "localhost" when host is empty
// or is the default Unix-socket directory; port is the effective port
// (5432 when none was given). An empty database or user matches nothing:
// libpq does not consult the file then.
func (p *Passfile) Lookup(host, port, database, user string) (password string, ok bool) {
	if p == nil || database == "" || user == "" {
		return "", false
	}
	for _, line := range p.lines {
		rest, ok := matchField(line, host)
		if ok {
			rest, ok = matchField(rest, port)
		}
		if ok {
			rest, ok = matchField(rest, database)
		}
		if ok {
			rest, ok = matchField(rest, user)
		}
		if ok {
			return unescapePassword(rest), true
		}
	}
	return "", false
}

// matchField is pwdfMatchesString: if the field at the start of buf matches
// token, it returns the text after the field's terminating colon.
func matchField(buf, token string) (string, bool) {
	if strings.HasPrefix(buf, "*:") {
		return buf[2:], true
	}
	i, j := 0, 0
	for i < len(buf) {
		escaped := buf[i] == '\\'
		if escaped {
			i++
			if i == len(buf) {
				return "", false
			}
		}
		c := buf[i]
		if c == ':' && !escaped && j == len(token) {
			return buf[i+1:], true
		}
		if j == len(token) || c != token[j] {
			return "", false
		}
		i++
		j++
	}
	return "", false
}

// unescapePassword is the de-escaping loop at the end of passwordFromFile.
func unescapePassword(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s) && s[i] != ':'; i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b = append(b, s[i])
	}
	return string(b)
}

// String describes p without revealing any of its lines.
func (p *Passfile) String() string {
	if p == nil {
		return "pgconf.Passfile(nil)"
	}
	return fmt.Sprintf("pgconf.Passfile(%d entries)", len(p.lines))
}

// GoString makes fmt's %#v as safe as %v: it returns [Passfile.String].
func (p *Passfile) GoString() string { return p.String() }

// ReadPassfile reads the password file at path the way libpq does before
// using it:
//
//   - a file that does not exist (or whose directory does not) →
//     nil, nil, nil;
//   - not a regular file (a directory, a FIFO...) → nil and the warning
//     `password file "PATH" is not a plain file` (of kind
//     PassfileNotPlain);
//   - on Unix, any group or other permission bit set (mode & 0077) → nil
//     and the warning `password file "PATH" has group or world access;
//     permissions should be u=rw (0600) or less` (of kind
//     PassfileOpenToOthers); on Windows, as in libpq, permissions are not
//     checked;
//   - otherwise the parsed file.
//
// libpq prints the warnings to stderr prefixed with "WARNING: " and goes on
// without the file; the caller does the printing. Any other failure to stat,
// open or read the file is returned as err, as is a file larger than
// [MaxSettingsFileSize]; libpq silently ignores a file it cannot open, so a
// caller matching it treats err as "no password file".
func ReadPassfile(path string) (pf *Passfile, warning *PassfileWarning, err error) {
	data, fi, err := ReadFile(path, FileUse{What: "password file", Setting: "passfile (PGPASSFILE)", Limit: MaxSettingsFileSize})
	switch {
	case errors.Is(err, ErrNotRegular):
		return nil, &PassfileWarning{Kind: PassfileNotPlain, Path: path}, nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, &PassfileWarning{Kind: PassfileOpenToOthers, Path: path}, nil
	}
	pf, err = ParsePassfile(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("could not read password file \"%s\": %w", path, err)
	}
	return pf, nil, nil
}

// PassfileProblem says why a password file was ignored.
type PassfileProblem int

const (
	// PassfileNotPlain: the file is not a regular file.
	PassfileNotPlain PassfileProblem = iota + 1
	// PassfileOpenToOthers: group or others may access the file.
	PassfileOpenToOthers
)

// PassfileWarning says that a password file was ignored, and why. Its
// String method returns libpq's warning.
type PassfileWarning struct {
	// Kind is why the file was ignored.
	Kind PassfileProblem
	// Path is the file.
	Path string
}

// String returns libpq's warning for the ignored file.
func (w *PassfileWarning) String() string {
	if w.Kind == PassfileOpenToOthers {
		return fmt.Sprintf("password file \"%s\" has group or world access; permissions should be u=rw (0600) or less", w.Path)
	}
	return notPlainWarning(w.Path)
}

func notPlainWarning(path string) string {
	return fmt.Sprintf("password file \"%s\" is not a plain file", path)
}
