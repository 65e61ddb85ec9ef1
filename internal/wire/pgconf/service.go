// The connection service file (pg_service.conf), per the libpq
// documentation, "The Connection Service File" (§34.17), and fe-connect.c's
// parseServiceInfo and parseServiceFile (PostgreSQL 18), which Lookup and
// FindService reproduce line for line.

package pgconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// serviceBufSize is the size of parseServiceFile's line buffer (char
// buf[1024]): fgets reads at most 1023 bytes at a time, and a read that
// fills them is "too long".
const serviceBufSize = 1024

// ServiceErrorKind classifies a [ServiceError].
type ServiceErrorKind int

const (
	// ServiceNotFound: no file searched by [FindService] defines the
	// service.
	ServiceNotFound ServiceErrorKind = iota + 1
	// ServiceFileNotFound: a service file that had to be read could not be
	// opened (libpq says "not found" whatever the reason; Err has it).
	ServiceFileNotFound
	// ServiceFileUnreadable: reading an opened file failed (libpq would
	// silently stop reading there; Err has the cause).
	ServiceFileUnreadable
	// ServiceLineTooLong: a line reached before the service's section
	// ended is 1023 bytes or longer, counting its newline.
	ServiceLineTooLong
	// ServiceSyntax: a line in the service's section has no "=", or its
	// keyword is not one libpq accepts there.
	ServiceSyntax
	// ServiceNested: a "service=" or "servicefile=" line in the service's
	// section.
	ServiceNested
	// ServiceLDAP: an LDAP lookup line ("ldap...") in the service's
	// section; libpq built with LDAP would query the server, we do not.
	ServiceLDAP
)

// String returns a short lowercase name for the kind.
func (k ServiceErrorKind) String() string {
	switch k {
	case ServiceNotFound:
		return "service not found"
	case ServiceFileNotFound:
		return "service file not found"
	case ServiceFileUnreadable:
		return "service file unreadable"
	case ServiceLineTooLong:
		return "line too long"
	case ServiceSyntax:
		return "syntax"
	case ServiceNested:
		return "nested service"
	case ServiceLDAP:
		return "ldap"
	}
	return fmt.Sprintf("ServiceErrorKind(%d)", int(k))
}

// ServiceError reports why a service could not be looked up. Its Error
// method returns the libpq-like message alone, e.g.
// `syntax error in service file "/etc/pg_service.conf", line 7`. The
// message names the file, the line number and the service, never the
// content of a line, so it cannot contain a password from the file.
type ServiceError struct {
	// Kind classifies the error.
	Kind ServiceErrorKind
	// Path is the service file concerned; empty for ServiceNotFound.
	Path string
	// Line is the 1-based line number, or 0 when no line is concerned.
	Line int
	// Msg is the message.
	Msg string
	// Err is the underlying I/O error for ServiceFileNotFound and
	// ServiceFileUnreadable, nil otherwise.
	Err error
}

// Error returns the message.
func (e *ServiceError) Error() string { return e.Msg }

// Unwrap returns the underlying I/O error, if any.
func (e *ServiceError) Unwrap() error { return e.Err }

// serviceLine is one fgets read that is neither blank nor a comment.
type serviceLine struct {
	num     int    // linenr: the count of fgets reads so far
	text    string // whitespace-trimmed; never empty
	tooLong bool   // the read filled the buffer: text is unset
}

// ServiceFile is a parsed connection service file. It keeps the file's
// non-blank, non-comment lines; which of them are checked depends on the
// service looked up (see [ServiceFile.Lookup]). Its String method does not
// reveal them.
type ServiceFile struct {
	path  string // for messages only
	lines []serviceLine
}

// ParseServiceFile reads a service file's content. path is used in
// messages only. The only errors are r's (a *[ServiceError] of kind
// ServiceFileUnreadable): the content itself is checked by
// [ServiceFile.Lookup], because libpq checks only the lines it reads while
// looking for one service.
//
// Lines are split as libpq's fgets loop splits them (on Unix: a "\r" is an
// ordinary byte): a read ends after "\n" or after 1023 bytes, and each read
// counts as a line for numbering. A NUL byte ends a line's text (C's
// strlen), so the rest of that read is ignored. Leading and trailing
// whitespace (space, \t, \n, \v, \f, \r) is trimmed; then blank lines and
// lines starting with "#" are comments. A "#" later in a line is data.
func ParseServiceFile(r io.Reader, path string) (*ServiceFile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &ServiceError{
			Kind: ServiceFileUnreadable, Path: path, Err: err,
			Msg: fmt.Sprintf("could not read service file \"%s\": %v", path, err),
		}
	}
	sf := &ServiceFile{path: path}
	num := 0
	for len(data) > 0 {
		n := min(len(data), serviceBufSize-1)
		if i := bytes.IndexByte(data[:n], '\n'); i >= 0 {
			n = i + 1
		}
		chunk := data[:n]
		data = data[n:]
		num++
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			chunk = chunk[:i]
		}
		if len(chunk) >= serviceBufSize-1 {
			// Every lookup stops here with an error: nothing after
			// this line can ever be read.
			sf.lines = append(sf.lines, serviceLine{num: num, tooLong: true})
			break
		}
		text := trimSpace(chunk)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		sf.lines = append(sf.lines, serviceLine{num: num, text: string(text)})
	}
	return sf, nil
}

// trimSpace trims C-locale isspace bytes from both ends, as
// parseServiceFile does.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// Lookup returns the settings of the named service, and whether the file
// defines it. It scans the lines exactly as libpq's parseServiceFile does:
//
//   - a line starting with "[" is a section header; it starts the service's
//     section when the text after "[" starts with name followed by "]"
//     (anything after that "]" is ignored, so "[db] # main" is [db]); names
//     are case-sensitive, and an empty name matches "[]";
//   - the service's section ends at the next header; a later section with
//     the same name is never read;
//   - lines outside the service's section (including those before any
//     header) are not checked at all: a syntax error in another service
//     does not fail this lookup;
//   - but a line of 1023 bytes or more, counting its "\n" (1022 for a last
//     line without one), fails the lookup wherever it is, as long as it
//     comes before the end of the service's section (or the end of the
//     file, when the file does not define the service);
//   - in the section, each line is keyword=value, split at the first "="
//     and not trimmed around it: "host = db" has the keyword "host ",
//     which is a syntax error, and "host= db" has the value " db"; an empty
//     value is kept as "";
//   - "service" and "servicefile" are refused as nested specifications;
//     a line starting with "ldap" is an LDAP lookup, which is not supported
//     here (libpq built without LDAP support reports a syntax error);
//   - the keyword must be one of libpq's, exactly as PQconninfoOptions
//     lists them: every [Known] keyword except "requiressl", which libpq
//     maps to sslmode in connection strings but not in the service file,
//     where it is a syntax error;
//   - a keyword given again keeps its first value (libpq does not override
//     a value already set).
//
// Errors are *[ServiceError] with libpq's messages, naming the file and
// line; on error the settings are nil and found is false. A nil
// *ServiceFile defines no service.
func (f *ServiceFile) Lookup(name string) (settings Settings, found bool, err error) {
	if f == nil {
		return nil, false, nil
	}
	var st Settings
	for _, l := range f.lines {
		if l.tooLong {
			return nil, false, f.lineError(ServiceLineTooLong, l.num,
				fmt.Sprintf("line %d too long in service file \"%s\"", l.num, f.path))
		}
		if l.text[0] == '[' {
			if st != nil {
				break // end of the service's section
			}
			if isGroup(l.text, name) {
				st = Settings{}
			}
			continue
		}
		if st == nil {
			continue // outside the service's section: not checked
		}
		if err := st.serviceLine(l.text); err != nil {
			return nil, false, f.lineError(err.kind, l.num, fmt.Sprintf(err.format, f.path, l.num))
		}
	}
	if st == nil {
		return nil, false, nil
	}
	return st, true, nil
}

// isGroup is parseServiceFile's header test: strncmp(line + 1, service,
// strlen(service)) == 0 && line[strlen(service) + 1] == ']'.
func isGroup(line, name string) bool {
	rest := line[1:]
	return strings.HasPrefix(rest, name) && len(rest) > len(name) && rest[len(name)] == ']'
}

// lineFault is a rejected line: the message format takes the path, then
// the line number.
type lineFault struct {
	kind   ServiceErrorKind
	format string
}

const syntaxFormat = "syntax error in service file \"%s\", line %d"

// serviceLine applies one line of the service's section to s.
func (s Settings) serviceLine(line string) *lineFault {
	if strings.HasPrefix(line, "ldap") {
		return &lineFault{ServiceLDAP, "LDAP service lookups are not supported in service file \"%s\", line %d"}
	}
	key, val, ok := strings.Cut(line, "=")
	if !ok {
		return &lineFault{ServiceSyntax, syntaxFormat}
	}
	switch key {
	case "service":
		return &lineFault{ServiceNested, "nested \"service\" specifications not supported in service file \"%s\", line %d"}
	case "servicefile":
		return &lineFault{ServiceNested, "nested \"servicefile\" specifications not supported in service file \"%s\", line %d"}
	}
	if !known[key] || key == "requiressl" {
		return &lineFault{ServiceSyntax, syntaxFormat}
	}
	if _, set := s[key]; !set {
		s[key] = val
	}
	return nil
}

func (f *ServiceFile) lineError(kind ServiceErrorKind, num int, msg string) *ServiceError {
	return &ServiceError{Kind: kind, Path: f.path, Line: num, Msg: msg}
}

// String describes f without revealing any of its lines.
func (f *ServiceFile) String() string {
	if f == nil {
		return "pgconf.ServiceFile(nil)"
	}
	return fmt.Sprintf("pgconf.ServiceFile(%q)", f.path)
}

// GoString makes fmt's %#v as safe as %v: it returns [ServiceFile.String].
func (f *ServiceFile) GoString() string { return f.String() }

// ReadServiceFile reads and parses the service file at path. A file that
// does not exist (or whose directory does not) returns nil, nil; a nil
// *ServiceFile defines no service. A file that exists but cannot be opened
// is a *[ServiceError] of kind ServiceFileNotFound with libpq's message
// (`service file "PATH" not found`) wrapping the cause; a read error is of
// kind ServiceFileUnreadable. Whether a missing file is an error is the
// caller's decision; [FindService] applies libpq's.
//
// Only a regular file of at most [MaxSettingsFileSize] bytes is read (see
// [ReadFile]): anything else is of kind ServiceFileUnreadable.
func ReadServiceFile(path string) (*ServiceFile, error) {
	sf, err := readServiceFile(path, "PGSERVICEFILE or PGSYSCONFDIR")
	if err != nil && isNotExist(err) {
		return nil, nil
	}
	return sf, err
}

// readServiceFile reads the service file at path, which setting names.
func readServiceFile(path, setting string) (*ServiceFile, error) {
	data, _, err := ReadFile(path, FileUse{What: "service file", Setting: setting, Limit: MaxSettingsFileSize})
	switch {
	case errors.Is(err, ErrNotRegular), errors.Is(err, ErrTooLarge):
		return nil, &ServiceError{Kind: ServiceFileUnreadable, Path: path, Err: err, Msg: err.Error()}
	case err != nil:
		return nil, fileNotFound(path, errors.Unwrap(err))
	}
	return ParseServiceFile(bytes.NewReader(data), path)
}

func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func fileNotFound(path string, err error) *ServiceError {
	return &ServiceError{
		Kind: ServiceFileNotFound, Path: path, Err: err,
		Msg: fmt.Sprintf("service file \"%s\" not found", path),
	}
}

// ServiceFiles names the files searched for a service, in order. An empty
// path is skipped (unless UserExplicit is set).
//
// libpq fills them in (parseServiceInfo) as follows; the caller does the
// same from the connection string and the environment:
//
//   - User is the "servicefile" connection option if given (PostgreSQL 18),
//     else the PGSERVICEFILE environment variable if set (even to ""); in
//     both cases UserExplicit is true. Otherwise User is ".pg_service.conf"
//     in the home directory ($HOME, or the passwd entry; %APPDATA%\postgresql
//     on Windows) and UserExplicit is false; it is empty when there is no
//     home directory.
//   - System is "pg_service.conf" in the directory named by PGSYSCONFDIR if
//     set, else in libpq's compiled-in sysconfdir (`pg_config --sysconfdir`).
type ServiceFiles struct {
	// User is the per-user service file, searched first.
	User string
	// UserExplicit says User was named explicitly (servicefile= or
	// PGSERVICEFILE): then it must exist. A default ~/.pg_service.conf
	// that does not exist is skipped.
	UserExplicit bool
	// System is the system-wide service file, searched only when the user
	// file does not define the service.
	System string
}

// FindService looks the service up in libpq's order (parseServiceInfo):
//
//  1. the user file: if UserExplicit, it is opened directly and failing
//     to open it (even because it does not exist) is the error
//     `service file "PATH" not found`; otherwise it is skipped when it
//     cannot be stat'ed (e.g. does not exist), and an error if it exists
//     but cannot be opened;
//  2. if the user file defines the service, its settings are returned and
//     the system file is NOT read, not even to fill in keywords the user
//     file's section lacks; a lookup error in the user file (see
//     [ServiceFile.Lookup]) is returned without trying the system file;
//  3. otherwise the system file, skipped when it cannot be stat'ed;
//  4. a service defined in neither is the error
//     `definition of service "NAME" not found`.
//
// A service file that is not a regular file, or is larger than
// [MaxSettingsFileSize], is an error of kind ServiceFileUnreadable, found
// without reading from it or waiting on it (libpq would read /dev/zero
// without end, and wait for a FIFO's writer).
//
// It returns the settings and the file that defined them. Errors are
// *[ServiceError]. The settings are those of one section and do not
// include "service". libpq 18 also sets "servicefile" to the file that
// supplied the service; [Known] does not list that keyword, so it is not
// in the result.
//
// Precedence with the connection string is the caller's: libpq applies a
// service's settings only to keywords the connection string (or
// PQconnectdbParams arrays) left unset, and environment variables (PGHOST,
// ...) only to keywords still unset after that.
func FindService(name string, files ServiceFiles) (settings Settings, from string, err error) {
	if files.User != "" || files.UserExplicit {
		st, found, err := searchServiceFile(files.User, files.UserExplicit, name, "PGSERVICEFILE")
		if err != nil {
			return nil, "", err
		}
		if found {
			return st, files.User, nil
		}
	}
	if files.System != "" {
		st, found, err := searchServiceFile(files.System, false, name, "PGSYSCONFDIR")
		if err != nil {
			return nil, "", err
		}
		if found {
			return st, files.System, nil
		}
	}
	return nil, "", &ServiceError{
		Kind: ServiceNotFound,
		Msg:  fmt.Sprintf("definition of service \"%s\" not found", name),
	}
}

// searchServiceFile is one parseServiceFile call, preceded by libpq's
// stat() check unless the file was named explicitly. setting is what names
// the file, for messages.
func searchServiceFile(path string, explicit bool, name, setting string) (Settings, bool, error) {
	if !explicit {
		if _, err := os.Stat(path); err != nil {
			return nil, false, nil
		}
	}
	sf, err := readServiceFile(path, setting)
	if err != nil {
		return nil, false, err
	}
	return sf.Lookup(name)
}
