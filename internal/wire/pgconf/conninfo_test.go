package pgconf_test

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// parseCase is one Parse input. wantErr, when set, is the exact message;
// wantKind the error's kind.
type parseCase struct {
	name     string
	input    string
	want     pgconf.Settings
	wantErr  string
	wantKind pgconf.ErrorKind
}

var conninfoCases = []parseCase{
	{name: "empty", input: "", want: pgconf.Settings{}},
	{name: "whitespace only", input: " \t\n\r\v\f ", want: pgconf.Settings{}},
	{name: "host and port", input: "host=localhost port=5432",
		want: pgconf.Settings{"host": "localhost", "port": "5432"}},
	{name: "spaces around equals", input: "  host =  localhost   port= 5432 dbname =app ",
		want: pgconf.Settings{"host": "localhost", "port": "5432", "dbname": "app"}},
	{name: "escaped quote in quotes", input: `password='a\'b'`,
		want: pgconf.Settings{"password": "a'b"}},
	{name: "escaped backslash in quotes", input: `password='a\\b'`,
		want: pgconf.Settings{"password": `a\b`}},
	{name: "backslash before any char in quotes", input: `application_name='a\xb'`,
		want: pgconf.Settings{"application_name": "axb"}},
	{name: "quoted spaces", input: `application_name='my app' user=u`,
		want: pgconf.Settings{"application_name": "my app", "user": "u"}},
	{name: "empty quoted value", input: "dbname='' user=u",
		want: pgconf.Settings{"dbname": "", "user": "u"}},
	{name: "empty value at end", input: "user=u dbname=",
		want: pgconf.Settings{"dbname": "", "user": "u"}},
	{name: "blank after equals is skipped", input: "host= port=1",
		want: pgconf.Settings{"host": "port=1"}},
	{name: "escaped space outside quotes", input: `password=a\ b host=h`,
		want: pgconf.Settings{"password": "a b", "host": "h"}},
	{name: "escaped backslash outside quotes", input: `dbname=a\\b`,
		want: pgconf.Settings{"dbname": `a\b`}},
	{name: "escaped quote outside quotes", input: `dbname=\'x`,
		want: pgconf.Settings{"dbname": "'x"}},
	{name: "trailing lone backslash dropped", input: `dbname=ab\`,
		want: pgconf.Settings{"dbname": "ab"}},
	{name: "quote inside unquoted value is literal", input: "dbname=it's",
		want: pgconf.Settings{"dbname": "it's"}},
	{name: "equals inside value", input: "options=-cgeqo=off",
		want: pgconf.Settings{"options": "-cgeqo=off"}},
	{name: "no separator needed after closing quote", input: "host='a'port=1",
		want: pgconf.Settings{"host": "a", "port": "1"}},
	{name: "duplicate keyword last wins", input: "port=1 port=2",
		want: pgconf.Settings{"port": "2"}},
	{name: "lists kept", input: "host=a,b port=1,2",
		want: pgconf.Settings{"host": "a,b", "port": "1,2"}},
	{name: "unicode values", input: "application_name=héllo dbname='données 日本'",
		want: pgconf.Settings{"application_name": "héllo", "dbname": "données 日本"}},
	{name: "tabs and newlines separate", input: "host=a\tport=1\nuser=u\r\ndbname=d\v\fsslmode=disable",
		want: pgconf.Settings{"host": "a", "port": "1", "user": "u", "dbname": "d", "sslmode": "disable"}},
	{name: "requiressl=1 becomes sslmode=require", input: "requiressl=1",
		want: pgconf.Settings{"sslmode": "require"}},
	{name: "requiressl other becomes sslmode=prefer", input: "requiressl=0",
		want: pgconf.Settings{"sslmode": "prefer"}},
	{name: "requiressl overrides earlier sslmode", input: "sslmode=disable requiressl=1",
		want: pgconf.Settings{"sslmode": "require"}},
	{name: "not a URI without both slashes", input: "postgres:/h",
		wantErr: `missing "=" after "postgres:/h" in connection info string`, wantKind: pgconf.KindSyntax},
	{name: "unterminated quote", input: "password='abc",
		wantErr: "unterminated quoted string in connection info string", wantKind: pgconf.KindSyntax},
	{name: "unterminated after backslash", input: `dbname='abc\`,
		wantErr: "unterminated quoted string in connection info string", wantKind: pgconf.KindSyntax},
	{name: "missing equals", input: "host",
		wantErr: `missing "=" after "host" in connection info string`, wantKind: pgconf.KindSyntax},
	{name: "missing equals after pair", input: "host=a foo bar=1",
		wantErr: `missing "=" after "foo" in connection info string`, wantKind: pgconf.KindSyntax},
	{name: "unknown keyword", input: "host=a foo=bar",
		wantErr: `invalid connection option "foo"`, wantKind: pgconf.KindUnknownKeyword},
	{name: "keywords are case-sensitive", input: "Host=a",
		wantErr: `invalid connection option "Host"`, wantKind: pgconf.KindUnknownKeyword},
	{name: "empty keyword", input: "=x",
		wantErr: `invalid connection option ""`, wantKind: pgconf.KindUnknownKeyword},
	{name: "nul byte", input: "host=a\x00b",
		wantErr: "unexpected NUL byte in connection info string", wantKind: pgconf.KindSyntax},
	{name: "word after unquoted password is not quoted back", input: "password=s3cr3t tail",
		wantErr: `missing "=" after the word following the value of "password" in connection info string`, wantKind: pgconf.KindSyntax},
	{name: "keyword after unquoted password is not quoted back", input: "password=s3 cr3t=x",
		wantErr: `invalid connection option following the value of "password"`, wantKind: pgconf.KindUnknownKeyword},
	{name: "word after quoted password is named", input: "password='s3cr3t' tail",
		wantErr: `missing "=" after "tail" in connection info string`, wantKind: pgconf.KindSyntax},
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pgconf.Parse(tc.input)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want error %q", tc.input, got, tc.wantErr)
				}
				if err.Error() != tc.wantErr {
					t.Fatalf("Parse(%q) error = %q, want %q", tc.input, err, tc.wantErr)
				}
				var pe *pgconf.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %T is not *ParseError", err)
				}
				if tc.wantKind != 0 && pe.Kind != tc.wantKind {
					t.Fatalf("kind = %v, want %v", pe.Kind, tc.wantKind)
				}
				if got != nil {
					t.Fatalf("settings = %v on error, want nil", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tc.input, err)
			}
			if got == nil || !maps.Equal(got, tc.want) {
				t.Fatalf("Parse(%q)\n got %#v\nwant %#v", tc.input, map[string]string(got), map[string]string(tc.want))
			}
		})
	}
}

func TestParseConninfo(t *testing.T) { runParseCases(t, conninfoCases) }

func TestUnknownKeywordErrorNamesIt(t *testing.T) {
	_, err := pgconf.Parse("host=a frobnicate=1")
	var pe *pgconf.ParseError
	if !errors.As(err, &pe) || pe.Kind != pgconf.KindUnknownKeyword || pe.Keyword != "frobnicate" {
		t.Fatalf("got %#v", err)
	}
	wrapped := errors.Join(errors.New("connecting"), err)
	if !errors.As(wrapped, &pe) {
		t.Fatal("ParseError not found through wrapping")
	}
}

func TestEveryKnownKeywordParses(t *testing.T) {
	kws := pgconf.Keywords()
	if len(kws) != 51 {
		t.Fatalf("%d keywords, want 51", len(kws))
	}
	for _, kw := range kws {
		if !pgconf.Known(kw) {
			t.Errorf("Known(%q) = false", kw)
		}
		got, err := pgconf.Parse(kw + "=1")
		if err != nil {
			t.Errorf("Parse(%s=1): %v", kw, err)
			continue
		}
		want := kw
		if kw == "requiressl" {
			want = "sslmode"
		}
		if _, ok := got[want]; !ok || len(got) != 1 {
			t.Errorf("Parse(%s=1) = %v", kw, got)
		}
	}
	for _, kw := range []string{"", "ssl", "HOST", "tty", "foo", "host "} {
		if pgconf.Known(kw) {
			t.Errorf("Known(%q) = true", kw)
		}
	}
	kws[0] = "changed"
	if pgconf.Keywords()[0] != "host" {
		t.Error("Keywords returned a shared slice")
	}
}

func TestSettingsStringRoundTrips(t *testing.T) {
	in := pgconf.Settings{
		"host":             "a,b",
		"dbname":           "",
		"application_name": `it's a \ test`,
		"options":          "-c geqo=off",
		"user":             "日本",
		"password":         "s3cr3t",
		"sslpassword":      "k3y",
	}
	s := in.String()
	if strings.Contains(s, "s3cr3t") || strings.Contains(s, "k3y") {
		t.Fatalf("String leaks a secret: %s", s)
	}
	got, err := pgconf.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	want := maps.Clone(in)
	want["password"], want["sslpassword"] = "xxxxx", "xxxxx"
	if !maps.Equal(got, want) {
		t.Fatalf("round trip of %q\n got %#v\nwant %#v", s, map[string]string(got), map[string]string(want))
	}
	for _, f := range []string{"%v", "%s", "%#v", "%+v"} {
		if out := fmt.Sprintf(f, in); strings.Contains(out, "s3cr3t") {
			t.Errorf("%s leaks the password: %s", f, out)
		}
	}
}
