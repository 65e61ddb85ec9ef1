package pgconf_test

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// serviceMessages are the message formats Lookup may return, by kind; each
// takes the path and the line number (in that order, or reversed for
// "too long", as in libpq).
var serviceMessages = map[pgconf.ServiceErrorKind][]string{
	pgconf.ServiceSyntax: {`syntax error in service file "%s", line %d`},
	pgconf.ServiceNested: {
		`nested "service" specifications not supported in service file "%s", line %d`,
		`nested "servicefile" specifications not supported in service file "%s", line %d`,
	},
	pgconf.ServiceLDAP: {`LDAP service lookups are not supported in service file "%s", line %d`},
}

// FuzzParseServiceFile: parsing never fails on an in-memory file and
// nothing panics; a lookup's error is one of libpq's messages, built from
// the path and the line number only (so it never contains a password from
// the file), and never contains a password placed in the looked-up
// section; found settings have Known keywords and come from "key=value"
// lines of the file; and what other sections contain does not change the
// result.
func FuzzParseServiceFile(f *testing.F) {
	for _, name := range []string{"db", "bad", "nested", "ldap", "req", "", "missing"} {
		f.Add(sampleServiceFile, name)
	}
	f.Add("[mydb]\nhost=somehost\nport=5433\nuser=admin\n", "mydb")
	f.Add("# comment\r\n[a]\r\nhost=h\r\npassword=pw\r\n[b]\r\nhost=x\r\n", "b")
	f.Add("[s]\npassword=hunter2\nservice=hunter2\n", "s")
	f.Add("[s]\n"+strings.Repeat("p", 1022)+"\nhost=h\n", "s")
	f.Add("[x]\nhost=a\x00"+strings.Repeat("y", 1100)+"\n[s]\nsslmode=require\n", "s")
	f.Add("[s] comment\n  dbname = spaced\n", "s")

	const path = "/etc/pg_service.conf"
	f.Fuzz(func(t *testing.T, data, name string) {
		sf, err := pgconf.ParseServiceFile(strings.NewReader(data), path)
		if err != nil || sf == nil {
			t.Fatalf("ParseServiceFile: %v, %v", sf, err)
		}
		st, found, err := sf.Lookup(name)
		st2, found2, err2 := sf.Lookup(name)
		if found != found2 || !maps.Equal(st, st2) || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("Lookup is not repeatable")
		}
		lines := strings.Count(data, "\n") + 1 + len(data)/1022 // at most this many fgets reads
		if err != nil {
			checkServiceError(t, err, path, lines)
			if st != nil || found {
				t.Fatalf("error with settings %v, %v", st, found)
			}
		} else {
			if found != (st != nil) {
				t.Fatalf("found = %v with settings %v", found, st)
			}
			for k, v := range st {
				if !pgconf.Known(k) || k == "requiressl" || k == "service" {
					t.Fatalf("Lookup(%q) set keyword %q", name, k)
				}
				if !strings.Contains(data, k+"="+v) || strings.ContainsAny(v, "\n\x00") {
					t.Fatalf("Lookup(%q) set %s=%q, not a line of the file", name, k, v)
				}
			}
		}

		// Another section in front changes line numbers only.
		const other = "[zz_other]\nno equals sign\nservice=x\n"
		if name != "zz_other" {
			sf, _ := pgconf.ParseServiceFile(strings.NewReader(other+data), path)
			ost, ofound, oerr := sf.Lookup(name)
			if ofound != found || !maps.Equal(ost, st) || (oerr == nil) != (err == nil) {
				t.Fatalf("a section in front changes Lookup(%q): %v, %v, %v → %v, %v, %v", name, st, found, err, ost, ofound, oerr)
			}
			if err != nil {
				var se, ose *pgconf.ServiceError
				errors.As(err, &se)
				errors.As(oerr, &ose)
				if ose.Kind != se.Kind || ose.Line != se.Line+3 {
					t.Fatalf("a section in front: %v → %v", err, oerr)
				}
			}
		}

		// A password in the looked-up section never reaches an error.
		const secret = "Hunter2SecretValue"
		if strings.Contains(name, secret) || strings.ContainsAny(name, "\n\x00") || len(name) > 1000 {
			return
		}
		sf, _ = pgconf.ParseServiceFile(strings.NewReader("["+name+"]\npassword="+secret+"\n"+data), path)
		_, _, err = sf.Lookup(name)
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("error quotes the password: %v", err)
		}
	})
}

// checkServiceError checks that err is exactly one of libpq's messages for
// its kind, built from path and the error's line number.
func checkServiceError(t *testing.T, err error, path string, lines int) {
	t.Helper()
	var se *pgconf.ServiceError
	if !errors.As(err, &se) || se.Path != path || se.Line < 1 || se.Line > lines || se.Err != nil {
		t.Fatalf("error %#v", err)
	}
	if se.Kind == pgconf.ServiceLineTooLong {
		if se.Msg != fmt.Sprintf(`line %d too long in service file "%s"`, se.Line, path) {
			t.Fatalf("message %q", se.Msg)
		}
		return
	}
	for _, format := range serviceMessages[se.Kind] {
		if se.Msg == fmt.Sprintf(format, path, se.Line) {
			return
		}
	}
	t.Fatalf("unexpected message %q (kind %v)", se.Msg, se.Kind)
}
