package pgconf_test

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

const sampleServiceFile = `# Lines before any section are never checked.
host=ignored-before-any-section
garbage line without equals

[db]
host=db.example.com
  port=5433   ` + "\t" + `
# inner comment
   # indented comment
dbname=app # not a comment
user=alice
host=second-host-ignored
password=s3cr3t-pw
application_name=
options=-c search_path=a=b

[db2] trailing text after the bracket
host=two

[bad]
password s3cr3t-no-equals

[nested]
host=n
service=other

[nestedfile]
servicefile=/etc/other.conf

[unknown]
host=u
hots=typo

[spaced]
host = db

[valuespace]
host= db

[req]
requiressl=1

[ldap]
ldap://ldap.example.com/dc=example,dc=com?pgconn?one?(cn=mydb)

[db]
host=duplicate-section-never-read

[Case]
host=upper

[]
host=empty-name

[pre]
host=prefix

[empty]
`

// lineOf returns the 1-based number of the first line of content equal to
// line.
func lineOf(t *testing.T, content, line string) int {
	t.Helper()
	for i, l := range strings.Split(content, "\n") {
		if l == line {
			return i + 1
		}
	}
	t.Fatalf("no line %q", line)
	return 0
}

type serviceCase struct {
	name      string
	service   string
	want      pgconf.Settings
	wantFound bool
	errKind   pgconf.ServiceErrorKind
	errMsg    string
}

func runServiceCases(t *testing.T, content string, cases []serviceCase) {
	t.Helper()
	sf, err := pgconf.ParseServiceFile(strings.NewReader(content), "/etc/pg_service.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, found, err := sf.Lookup(tc.service)
			if tc.errKind != 0 {
				var se *pgconf.ServiceError
				if !errors.As(err, &se) || se.Kind != tc.errKind || se.Msg != tc.errMsg || got != nil || found {
					t.Fatalf("Lookup(%q) = %v, %v, %#v; want %v error %q", tc.service, got, found, err, tc.errKind, tc.errMsg)
				}
				return
			}
			if err != nil || found != tc.wantFound || !maps.Equal(got, tc.want) || (found && got == nil) {
				t.Fatalf("Lookup(%q) = %v, %v, %v; want %v, %v", tc.service, got, found, err, tc.want, tc.wantFound)
			}
		})
	}
}

func TestServiceFileLookup(t *testing.T) {
	c := sampleServiceFile
	msg := func(format, line string) string {
		return fmt.Sprintf(format, "/etc/pg_service.conf", lineOf(t, c, line))
	}
	const syntax = `syntax error in service file "%s", line %d`
	runServiceCases(t, c, []serviceCase{
		{name: "section, trimming, comments, first wins", service: "db", wantFound: true, want: pgconf.Settings{
			"host": "db.example.com", "port": "5433", "dbname": "app # not a comment", "user": "alice",
			"password": "s3cr3t-pw", "application_name": "", "options": "-c search_path=a=b",
		}},
		{name: "text after the closing bracket", service: "db2", wantFound: true, want: pgconf.Settings{"host": "two"}},
		{name: "no equals sign", service: "bad", errKind: pgconf.ServiceSyntax, errMsg: msg(syntax, "password s3cr3t-no-equals")},
		{name: "nested service", service: "nested", errKind: pgconf.ServiceNested,
			errMsg: msg(`nested "service" specifications not supported in service file "%s", line %d`, "service=other")},
		{name: "nested servicefile", service: "nestedfile", errKind: pgconf.ServiceNested,
			errMsg: msg(`nested "servicefile" specifications not supported in service file "%s", line %d`, "servicefile=/etc/other.conf")},
		{name: "unknown keyword", service: "unknown", errKind: pgconf.ServiceSyntax, errMsg: msg(syntax, "hots=typo")},
		{name: "no trimming around equals in the keyword", service: "spaced", errKind: pgconf.ServiceSyntax, errMsg: msg(syntax, "host = db")},
		{name: "no trimming around equals in the value", service: "valuespace", wantFound: true, want: pgconf.Settings{"host": " db"}},
		{name: "requiressl is not accepted in a service file", service: "req", errKind: pgconf.ServiceSyntax, errMsg: msg(syntax, "requiressl=1")},
		{name: "ldap line", service: "ldap", errKind: pgconf.ServiceLDAP,
			errMsg: msg(`LDAP service lookups are not supported in service file "%s", line %d`, "ldap://ldap.example.com/dc=example,dc=com?pgconn?one?(cn=mydb)")},
		{name: "case-sensitive names", service: "case", wantFound: false},
		{name: "case-sensitive names, exact", service: "Case", wantFound: true, want: pgconf.Settings{"host": "upper"}},
		{name: "empty name matches []", service: "", wantFound: true, want: pgconf.Settings{"host": "empty-name"}},
		{name: "prefix of a name", service: "pr", wantFound: false},
		{name: "name with prefix", service: "pre", wantFound: true, want: pgconf.Settings{"host": "prefix"}},
		{name: "empty section", service: "empty", wantFound: true, want: pgconf.Settings{}},
		{name: "absent", service: "missing", wantFound: false},
		{name: "bracket in the name", service: "db]", wantFound: false},
	})
}

func TestServiceFileLines(t *testing.T) {
	long := func(n int) string { return "host=" + strings.Repeat("h", n-len("host=")) }
	const path = "/etc/pg_service.conf"
	tooLong := func(line int) string { return fmt.Sprintf(`line %d too long in service file "%s"`, line, path) }
	cases := []struct {
		name, content string
		c             serviceCase
	}{
		{"1021 bytes and a newline", "[s]\n" + long(1021) + "\n",
			serviceCase{wantFound: true, want: pgconf.Settings{"host": long(1021)[5:]}}},
		{"1022 bytes and a newline", "[s]\n" + long(1022) + "\n",
			serviceCase{errKind: pgconf.ServiceLineTooLong, errMsg: tooLong(2)}},
		{"1022 bytes at the end without newline", "[s]\n" + long(1022),
			serviceCase{wantFound: true, want: pgconf.Settings{"host": long(1022)[5:]}}},
		{"1023 bytes at the end without newline", "[s]\n" + long(1023),
			serviceCase{errKind: pgconf.ServiceLineTooLong, errMsg: tooLong(2)}},
		{"CR counts toward the length", "[s]\n" + long(1021) + "\r\n",
			serviceCase{errKind: pgconf.ServiceLineTooLong, errMsg: tooLong(2)}},
		{"long comment line", "[s]\n#" + long(2000) + "\n",
			serviceCase{errKind: pgconf.ServiceLineTooLong, errMsg: tooLong(2)}},
		{"long line in a section before", "[a]\n" + long(2000) + "\n[s]\nhost=h\n",
			serviceCase{errKind: pgconf.ServiceLineTooLong, errMsg: tooLong(2)}},
		{"long line after the section is never read", "[s]\nhost=h\n[a]\n" + long(2000) + "\n",
			serviceCase{wantFound: true, want: pgconf.Settings{"host": "h"}}},
		{"long line when the service is absent", "[a]\nhost=h\n" + long(2000) + "\n",
			serviceCase{errKind: pgconf.ServiceLineTooLong, errMsg: tooLong(3)}},
		// The first 1023-byte read contains a NUL, so it is not too long and
		// its text is "host=a"; the rest of the physical line is read as
		// line 3, which has no "=".
		{"NUL splits a long line like fgets", "[s]\nhost=a\x00" + strings.Repeat("x", 2000) + "\n",
			serviceCase{errKind: pgconf.ServiceSyntax, errMsg: `syntax error in service file "/etc/pg_service.conf", line 3`}},
		{"NUL ends the text of a line", "[s]\nhost=a\x00b\n",
			serviceCase{wantFound: true, want: pgconf.Settings{"host": "a"}}},
		{"CRLF and other whitespace", "\t[s] \v\r\nhost=h\f\r\n\r\n port=1\r\n",
			serviceCase{wantFound: true, want: pgconf.Settings{"host": "h", "port": "1"}}},
		{"second section of the same name is not merged", "[s]\nhost=a\n[s]\nport=1\n",
			serviceCase{wantFound: true, want: pgconf.Settings{"host": "a"}}},
		{"syntax errors elsewhere are ignored", "[a]\n!!!\nservice=x\nldap://x\n[s]\nhost=h\n[b]\nnope\n",
			serviceCase{wantFound: true, want: pgconf.Settings{"host": "h"}}},
		{"LDAP is any line starting with ldap", "[s]\nldapx=1\n",
			serviceCase{errKind: pgconf.ServiceLDAP, errMsg: `LDAP service lookups are not supported in service file "/etc/pg_service.conf", line 2`}},
		{"uppercase LDAP is a syntax error", "[s]\nLDAP://h/dc=x?a?one?(cn=y)\n",
			serviceCase{errKind: pgconf.ServiceSyntax, errMsg: `syntax error in service file "/etc/pg_service.conf", line 2`}},
		{"keywords are case-sensitive", "[s]\nHost=h\n",
			serviceCase{errKind: pgconf.ServiceSyntax, errMsg: `syntax error in service file "/etc/pg_service.conf", line 2`}},
		{"empty file", "", serviceCase{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.name, tc.c.service = "lookup", "s"
			runServiceCases(t, tc.content, []serviceCase{tc.c})
		})
	}
}

// Every keyword Known lists is accepted in a service file, except the
// three libpq treats specially there.
func TestServiceFileKeywords(t *testing.T) {
	for _, k := range pgconf.Keywords() {
		sf, err := pgconf.ParseServiceFile(strings.NewReader("[s]\n"+k+"=v\n"), "f")
		if err != nil {
			t.Fatal(err)
		}
		st, found, err := sf.Lookup("s")
		switch k {
		case "service", "requiressl":
			if err == nil {
				t.Errorf("%s: accepted: %v", k, st)
			}
		default:
			if err != nil || !found || st[k] != "v" || len(st) != 1 {
				t.Errorf("%s: %v, %v, %v", k, st, found, err)
			}
		}
	}
}

func TestServiceErrorsNeverQuoteSecrets(t *testing.T) {
	const secret = "hunter2-secret"
	for _, content := range []string{
		"[s]\npassword " + secret + "\n",
		"[s]\npassword =" + secret + "\n",
		"[s]\npassword:" + secret + "=x\n",
		"[s]\npassword=" + secret + "\nservice=" + secret + "\n",
		"[s]\nsslpassword=" + secret + "\nldap://" + secret + "\n",
		"[s]\npassword=" + secret + strings.Repeat("x", 2000) + "\n",
	} {
		sf, err := pgconf.ParseServiceFile(strings.NewReader(content), "f")
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = sf.Lookup("s")
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error %v", content, err)
		}
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(f, sf); strings.Contains(out, "hunter2") {
				t.Errorf("%s leaks the file: %s", f, out)
			}
		}
	}
}

func TestParseServiceFileReadError(t *testing.T) {
	boom := errors.New("boom")
	sf, err := pgconf.ParseServiceFile(iotest.ErrReader(boom), "f")
	var se *pgconf.ServiceError
	if sf != nil || !errors.As(err, &se) || se.Kind != pgconf.ServiceFileUnreadable || !errors.Is(err, boom) {
		t.Fatalf("got %v, %#v", sf, err)
	}
	var nilFile *pgconf.ServiceFile
	if st, found, err := nilFile.Lookup("s"); st != nil || found || err != nil {
		t.Fatalf("nil file: %v, %v, %v", st, found, err)
	}
}

func writeService(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadServiceFile(t *testing.T) {
	dir := t.TempDir()
	path := writeService(t, dir, "svc.conf", "[s]\nhost=h\n")
	sf, err := pgconf.ReadServiceFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, found, err := sf.Lookup("s"); err != nil || !found || st["host"] != "h" {
		t.Fatalf("Lookup: %v, %v, %v", st, found, err)
	}
	for _, missing := range []string{
		filepath.Join(dir, "nope.conf"),
		filepath.Join(dir, "nodir", "svc.conf"),
		filepath.Join(path, "svc.conf"), // a file as a directory: ENOTDIR
	} {
		if sf, err := pgconf.ReadServiceFile(missing); sf != nil || err != nil {
			t.Errorf("%s: %v, %v", missing, sf, err)
		}
	}
	if os.Geteuid() != 0 {
		locked := writeService(t, dir, "locked.conf", "[s]\nhost=h\n")
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		_, err := pgconf.ReadServiceFile(locked)
		var se *pgconf.ServiceError
		if !errors.As(err, &se) || se.Kind != pgconf.ServiceFileNotFound || !errors.Is(err, fs.ErrPermission) ||
			se.Msg != fmt.Sprintf(`service file "%s" not found`, locked) {
			t.Errorf("unreadable file: %#v", err)
		}
	}
}

func TestFindService(t *testing.T) {
	dir := t.TempDir()
	user := writeService(t, dir, "user.conf", "[both]\nhost=user-host\n[useronly]\nhost=u\n[broken]\nhots=x\n")
	system := writeService(t, dir, "system.conf", "[both]\nhost=system-host\nport=1\n[sysonly]\nhost=s\n[broken]\nhost=fine\n")
	longUser := writeService(t, dir, "long.conf", "[other]\n"+strings.Repeat("x", 1100)+"\n")
	missing := filepath.Join(dir, "missing.conf")

	cases := []struct {
		name    string
		service string
		files   pgconf.ServiceFiles
		want    pgconf.Settings
		errKind pgconf.ServiceErrorKind
		errMsg  string
	}{
		{name: "user file wins, system file not merged", service: "both",
			files: pgconf.ServiceFiles{User: user, System: system}, want: pgconf.Settings{"host": "user-host"}},
		{name: "user file only", service: "useronly",
			files: pgconf.ServiceFiles{User: user, System: system}, want: pgconf.Settings{"host": "u"}},
		{name: "falls back to the system file", service: "sysonly",
			files: pgconf.ServiceFiles{User: user, System: system}, want: pgconf.Settings{"host": "s"}},
		{name: "explicit user file falls back too", service: "sysonly",
			files: pgconf.ServiceFiles{User: user, UserExplicit: true, System: system}, want: pgconf.Settings{"host": "s"}},
		{name: "error in the user file stops the search", service: "broken",
			files:   pgconf.ServiceFiles{User: user, System: system},
			errKind: pgconf.ServiceSyntax, errMsg: fmt.Sprintf(`syntax error in service file "%s", line 6`, user)},
		{name: "long line in the user file stops the search", service: "sysonly",
			files:   pgconf.ServiceFiles{User: longUser, System: system},
			errKind: pgconf.ServiceLineTooLong, errMsg: fmt.Sprintf(`line 2 too long in service file "%s"`, longUser)},
		{name: "missing default user file is skipped", service: "both",
			files: pgconf.ServiceFiles{User: missing, System: system}, want: pgconf.Settings{"host": "system-host", "port": "1"}},
		{name: "missing explicit user file is an error", service: "both",
			files:   pgconf.ServiceFiles{User: missing, UserExplicit: true, System: system},
			errKind: pgconf.ServiceFileNotFound, errMsg: fmt.Sprintf(`service file "%s" not found`, missing)},
		{name: "explicit empty user file name is an error", service: "both",
			files:   pgconf.ServiceFiles{UserExplicit: true, System: system},
			errKind: pgconf.ServiceFileNotFound, errMsg: `service file "" not found`},
		{name: "no user file", service: "both",
			files: pgconf.ServiceFiles{System: system}, want: pgconf.Settings{"host": "system-host", "port": "1"}},
		{name: "missing system file is skipped", service: "useronly",
			files: pgconf.ServiceFiles{User: user, System: missing}, want: pgconf.Settings{"host": "u"}},
		{name: "not found anywhere", service: "nowhere",
			files:   pgconf.ServiceFiles{User: user, System: system},
			errKind: pgconf.ServiceNotFound, errMsg: `definition of service "nowhere" not found`},
		{name: "no files at all", service: "x",
			errKind: pgconf.ServiceNotFound, errMsg: `definition of service "x" not found`},
		{name: "only missing files", service: "x", files: pgconf.ServiceFiles{User: missing, System: missing},
			errKind: pgconf.ServiceNotFound, errMsg: `definition of service "x" not found`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, from, err := pgconf.FindService(tc.service, tc.files)
			if tc.errKind != 0 {
				var se *pgconf.ServiceError
				if !errors.As(err, &se) || se.Kind != tc.errKind || se.Msg != tc.errMsg || got != nil {
					t.Fatalf("FindService(%q) = %v, %#v; want %v error %q", tc.service, got, err, tc.errKind, tc.errMsg)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Fatalf("FindService(%q) = %v, %v; want %v", tc.service, got, err, tc.want)
			}
			// from is the file whose section this is.
			f, _ := pgconf.ReadServiceFile(from)
			if sect, found, _ := f.Lookup(tc.service); !found || !maps.Equal(sect, got) {
				t.Errorf("FindService(%q) says the settings came from %q, which defines %v", tc.service, from, sect)
			}
		})
	}

	t.Run("explicit missing file wraps ErrNotExist", func(t *testing.T) {
		_, _, err := pgconf.FindService("s", pgconf.ServiceFiles{User: missing, UserExplicit: true})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("existing but unopenable default user file is an error", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root can open any file")
		}
		locked := writeService(t, t.TempDir(), "locked.conf", "[both]\nhost=h\n")
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		_, _, err := pgconf.FindService("both", pgconf.ServiceFiles{User: locked, System: system})
		var se *pgconf.ServiceError
		if !errors.As(err, &se) || se.Kind != pgconf.ServiceFileNotFound {
			t.Fatalf("%#v", err)
		}
	})
}
