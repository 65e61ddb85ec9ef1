package pgconf_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

const samplePassfile = `# comment line a:b:c:d:e
#*:*:*:*:commented

db.example.com:5432:app:alice:pw-alice
*:*:app:bob:pw-bob
\:\:1:5432:*:carol:pw-carol
host\:x:5432:db:dave:p\:w\\d\x
short:line:here
four:5432:fields:erin
h:5432:db:erin:first
h:5432:db:erin:second
crlf:5432:db:frank:pw-frank` + "\r\n" + `h:5432:db:gina:
h:5432:db:hank:pa:ss:extra
h:5432:db:ivan:trail\
\*:5432:db:judy:star
 #h:5432:db:kim:not-a-comment
H:5432:db:leo:upper
h:5432:db:*:any-user
`

var passfileLookups = []struct {
	name                       string
	host, port, database, user string
	want                       string
	wantOK                     bool
}{
	{name: "exact", host: "db.example.com", port: "5432", database: "app", user: "alice", want: "pw-alice", wantOK: true},
	{name: "exact wrong port", host: "db.example.com", port: "5433", database: "app", user: "alice", want: "", wantOK: false},
	{name: "wildcards", host: "anything", port: "1", database: "app", user: "bob", want: "pw-bob", wantOK: true},
	{name: "escaped ipv6", host: "::1", port: "5432", database: "whatever", user: "carol", want: "pw-carol", wantOK: true},
	{name: "escapes in host and password", host: "host:x", port: "5432", database: "db", user: "dave", want: `p:w\dx`, wantOK: true},
	{name: "short line ignored", host: "short", port: "line", database: "here", user: "", want: "", wantOK: false},
	{name: "four fields ignored", host: "four", port: "5432", database: "fields", user: "erin", want: "", wantOK: false},
	{name: "first match wins", host: "h", port: "5432", database: "db", user: "erin", want: "first", wantOK: true},
	{name: "crlf stripped", host: "crlf", port: "5432", database: "db", user: "frank", want: "pw-frank", wantOK: true},
	{name: "empty password", host: "h", port: "5432", database: "db", user: "gina", want: "", wantOK: true},
	{name: "password ends at colon", host: "h", port: "5432", database: "db", user: "hank", want: "pa", wantOK: true},
	{name: "trailing backslash kept", host: "h", port: "5432", database: "db", user: "ivan", want: `trail\`, wantOK: true},
	{name: "escaped star is literal", host: "*", port: "5432", database: "db", user: "judy", want: "star", wantOK: true},
	{name: "escaped star not wildcard", host: "x", port: "5432", database: "db", user: "judy", want: "", wantOK: false},
	{name: "indented hash is not a comment", host: " #h", port: "5432", database: "db", user: "kim", want: "not-a-comment", wantOK: true},
	{name: "commented line", host: "h", port: "1", database: "db", user: "u", want: "", wantOK: false},
	{name: "case-sensitive", host: "H", port: "5432", database: "db", user: "leo", want: "upper", wantOK: true},
	{name: "case-sensitive miss", host: "h", port: "5432", database: "db", user: "leo", want: "any-user", wantOK: true},
	{name: "empty database never matches", host: "anything", port: "1", database: "", user: "bob", want: "", wantOK: false},
	{name: "empty user never matches", host: "h", port: "5432", database: "db", user: "", want: "", wantOK: false},
	{name: "prefix is not a match", host: "db.example", port: "5432", database: "app", user: "alice", want: "", wantOK: false},
	{name: "longer is not a match", host: "db.example.com.", port: "5432", database: "app", user: "alice", want: "", wantOK: false},
}

func TestPassfileLookup(t *testing.T) {
	pf, err := pgconf.ParsePassfile(strings.NewReader(samplePassfile))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range passfileLookups {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := pf.Lookup(tc.host, tc.port, tc.database, tc.user)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("Lookup(%q, %q, %q, %q) = %q, %v; want %q, %v",
					tc.host, tc.port, tc.database, tc.user, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestPassfileUnescapedColonsMatchLikeLibpq pins libpq's pwdfMatchesString:
// an unescaped ":" is compared as a character while the value still has
// characters left, so an unescaped IPv6 host matches too.
func TestPassfileUnescapedColonsMatchLikeLibpq(t *testing.T) {
	pf, err := pgconf.ParsePassfile(strings.NewReader("::1:5432:db:u:unescaped\na:b:5432:db:u:two-colons\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := pf.Lookup("::1", "5432", "db", "u"); !ok || got != "unescaped" {
		t.Errorf("::1 → %q, %v", got, ok)
	}
	if got, ok := pf.Lookup("a:b", "5432", "db", "u"); !ok || got != "two-colons" {
		t.Errorf("a:b → %q, %v", got, ok)
	}
	// The same line also reads as host "a", port "b", database "5432",
	// user "db", password "u": libpq takes the first reading that fits.
	if got, ok := pf.Lookup("a", "b", "5432", "db"); !ok || got != "u" {
		t.Errorf("a,b,5432,db → %q, %v; want \"u\" as libpq", got, ok)
	}
}

func TestParsePassfileEdges(t *testing.T) {
	for _, in := range []string{"", "\n\n", "#only a comment", "no newline at end:1:d:u:pw"} {
		pf, err := pgconf.ParsePassfile(strings.NewReader(in))
		if err != nil || pf == nil {
			t.Fatalf("ParsePassfile(%q) = %v, %v", in, pf, err)
		}
	}
	pf, _ := pgconf.ParsePassfile(strings.NewReader("no newline at end:1:d:u:pw"))
	if got, ok := pf.Lookup("no newline at end", "1", "d", "u"); !ok || got != "pw" {
		t.Errorf("last line without newline: %q, %v", got, ok)
	}
	long := strings.Repeat("h", 1<<20)
	pf, _ = pgconf.ParsePassfile(strings.NewReader(long + ":1:d:u:pw\n"))
	if got, ok := pf.Lookup(long, "1", "d", "u"); !ok || got != "pw" {
		t.Errorf("long line: %q, %v", got, ok)
	}
	pf, _ = pgconf.ParsePassfile(strings.NewReader("h:1:d:u:p\x00w\nh:1:d:u:ok\n"))
	if got, ok := pf.Lookup("h", "1", "d", "u"); !ok || got != "ok" {
		t.Errorf("NUL line: %q, %v", got, ok)
	}
	var nilPF *pgconf.Passfile
	if _, ok := nilPF.Lookup("h", "1", "d", "u"); ok {
		t.Error("nil Passfile matched")
	}

	boom := errors.New("boom")
	if _, err := pgconf.ParsePassfile(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("read error = %v", err)
	}

	pf, _ = pgconf.ParsePassfile(strings.NewReader("h:1:d:u:s3cr3t\n"))
	for _, f := range []string{"%v", "%s", "%#v", "%+v"} {
		if out := fmt.Sprintf(f, pf); strings.Contains(out, "s3cr3t") {
			t.Errorf("%s leaks the password: %s", f, out)
		}
	}
}

func writeFile(t *testing.T, mode os.FileMode, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pgpass")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadPassfile(t *testing.T) {
	const content = "h:5432:db:u:pw\n"

	t.Run("0600 is read", func(t *testing.T) {
		pf, warning, err := pgconf.ReadPassfile(writeFile(t, 0o600, content))
		if err != nil || warning != nil || pf == nil {
			t.Fatalf("got %v, %q, %v", pf, warning, err)
		}
		if got, ok := pf.Lookup("h", "5432", "db", "u"); !ok || got != "pw" {
			t.Errorf("Lookup = %q, %v", got, ok)
		}
	})

	t.Run("0400 is read", func(t *testing.T) {
		pf, warning, err := pgconf.ReadPassfile(writeFile(t, 0o400, content))
		if err != nil || warning != nil || pf == nil {
			t.Fatalf("got %v, %q, %v", pf, warning, err)
		}
	})

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o610} {
		t.Run(fmt.Sprintf("%04o is ignored", mode), func(t *testing.T) {
			if runtime.GOOS == "windows" {
				t.Skip("libpq checks no permissions on Windows")
			}
			path := writeFile(t, mode, content)
			pf, warning, err := pgconf.ReadPassfile(path)
			want := `password file "` + path + `" has group or world access; permissions should be u=rw (0600) or less`
			if pf != nil || err != nil || warning == nil || warning.Kind != pgconf.PassfileOpenToOthers || warning.String() != want {
				t.Fatalf("got %v, %q, %v; want nil, %q, nil", pf, warning, err, want)
			}
		})
	}

	t.Run("missing", func(t *testing.T) {
		dir := t.TempDir()
		for _, path := range []string{filepath.Join(dir, "nope"), filepath.Join(dir, "nope", "pgpass")} {
			pf, warning, err := pgconf.ReadPassfile(path)
			if pf != nil || warning != nil || err != nil {
				t.Fatalf("ReadPassfile(%s) = %v, %q, %v", path, pf, warning, err)
			}
		}
	})

	t.Run("under a regular file", func(t *testing.T) {
		path := filepath.Join(writeFile(t, 0o600, content), "pgpass")
		pf, warning, err := pgconf.ReadPassfile(path)
		if pf != nil || warning != nil || err != nil {
			t.Fatalf("got %v, %q, %v", pf, warning, err)
		}
	})

	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		pf, warning, err := pgconf.ReadPassfile(dir)
		want := `password file "` + dir + `" is not a plain file`
		if pf != nil || err != nil || warning == nil || warning.Kind != pgconf.PassfileNotPlain || warning.String() != want {
			t.Fatalf("got %v, %q, %v; want nil, %q, nil", pf, warning, err, want)
		}
	})

	t.Run("device", func(t *testing.T) {
		if _, err := os.Stat("/dev/zero"); err != nil {
			t.Skip(err)
		}
		pf, warning, err := pgconf.ReadPassfile("/dev/zero")
		if pf != nil || err != nil || warning == nil || warning.Kind != pgconf.PassfileNotPlain {
			t.Fatalf("got %v, %q, %v; want the not-plain warning", pf, warning, err)
		}
	})

	t.Run("over the cap", func(t *testing.T) {
		path := writeFile(t, 0o600, strings.Repeat("h:5432:db:u:pw\n", pgconf.MaxSettingsFileSize/15+1))
		pf, warning, err := pgconf.ReadPassfile(path)
		if pf != nil || warning != nil || !errors.Is(err, pgconf.ErrTooLarge) || !strings.Contains(err.Error(), "larger than 1 MiB") {
			t.Fatalf("got %v, %q, %v; want an error saying the file is over 1 MiB", pf, warning, err)
		}
	})

	t.Run("symlink to 0600 file", func(t *testing.T) {
		target := writeFile(t, 0o600, content)
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(target, link); err != nil {
			t.Skip(err)
		}
		pf, warning, err := pgconf.ReadPassfile(link)
		if pf == nil || warning != nil || err != nil {
			t.Fatalf("got %v, %q, %v", pf, warning, err)
		}
	})
}
