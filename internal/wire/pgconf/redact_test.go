package pgconf_test

import (
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

var redactCases = []struct {
	name    string
	input   string
	want    string   // exact output
	secrets []string // must not appear in the output
}{
	{name: "uri userinfo", input: "postgresql://user:s3cr3t@host/db",
		want: "postgresql://user:xxxxx@host/db", secrets: []string{"s3cr3t"}},
	{name: "uri encoded password", input: "postgres://u:p%40s3cr3t%3A@h:5432/db?sslmode=require",
		want: "postgres://u:xxxxx@h:5432/db?sslmode=require", secrets: []string{"s3cr3t", "p%40"}},
	{name: "uri userinfo and query", input: "postgres://u:s3cr3t@h/db?password=an0ther&sslmode=require",
		want: "postgres://u:xxxxx@h/db?password=xxxxx&sslmode=require", secrets: []string{"s3cr3t", "an0ther"}},
	{name: "uri encoded keyword", input: "postgres://u@h/db?pass%77ord=s3cr3t",
		want: "postgres://u@h/db?pass%77ord=xxxxx", secrets: []string{"s3cr3t"}},
	{name: "uri other secrets", input: "postgres://h?sslpassword=k3y&oauth_client_secret=cl13nt&scram_client_key=ck&scram_server_key=sk",
		want:    "postgres://h?sslpassword=xxxxx&oauth_client_secret=xxxxx&scram_client_key=xxxxx&scram_server_key=xxxxx",
		secrets: []string{"k3y", "cl13nt", "=ck", "=sk"}},
	{name: "uri without password", input: "postgres://u@h:5432/db?application_name=x",
		want: "postgres://u@h:5432/db?application_name=x"},
	{name: "kv unquoted", input: "host=h password=s3cr3t dbname=d",
		want: "host=h password=xxxxx dbname=d", secrets: []string{"s3cr3t"}},
	{name: "kv quoted", input: "password='s3 cr3t' host=h",
		want: "password='xxxxx' host=h", secrets: []string{"s3 cr3t", "cr3t"}},
	{name: "kv quoted with escapes", input: `password = 's3\'cr\\3t'`,
		want: `password = 'xxxxx'`, secrets: []string{"cr", "3t"}},
	{name: "kv escaped space", input: `password=s3\ cr3t host=h`,
		want: "password=xxxxx host=h", secrets: []string{"s3", "cr3t"}},
	{name: "kv quote glued to next", input: "password='s3cr3t'host=h",
		want: "password='xxxxx'host=h", secrets: []string{"s3cr3t"}},
	{name: "kv every occurrence", input: "password=first password=second",
		want: "password=xxxxx password=xxxxx", secrets: []string{"first", "second"}},
	{name: "kv empty password", input: "password='' host=h",
		want: "password='xxxxx' host=h"},
	{name: "kv sslpassword", input: "sslkey=/k sslpassword=k3y",
		want: "sslkey=/k sslpassword=xxxxx", secrets: []string{"k3y"}},
	{name: "kv no secrets", input: "host=h port=5432", want: "host=h port=5432"},
	{name: "empty", input: "", want: ""},
	{name: "kv unparsable", input: "password=s3cr3t oops",
		want: "(unparsable connection string)", secrets: []string{"s3cr3t", "oops"}},
	{name: "kv unterminated", input: "password='s3cr3t",
		want: "(unparsable connection string)", secrets: []string{"s3cr3t"}},
	{name: "uri unparsable", input: "postgres://u:s3cr3t@[::1",
		want: "(unparsable connection string)", secrets: []string{"s3cr3t"}},
	{name: "uri bad escape in password", input: "postgres://u:s3cr3t%zz@h",
		want: "(unparsable connection string)", secrets: []string{"s3cr3t"}},
}

func TestRedact(t *testing.T) {
	for _, tc := range redactCases {
		t.Run(tc.name, func(t *testing.T) {
			got := pgconf.Redact(tc.input)
			if got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.input, got, tc.want)
			}
			for _, s := range tc.secrets {
				if strings.Contains(got, s) {
					t.Errorf("Redact(%q) = %q still contains %q", tc.input, got, s)
				}
			}
		})
	}
}

// TestErrorsNeverQuoteSecrets checks every error path that could echo text
// near a secret.
func TestErrorsNeverQuoteSecrets(t *testing.T) {
	inputs := []string{
		"postgres://u:s3cr3t@[::1",
		"postgres://u:s3cr3t@[]/db",
		"postgres://u:s3cr3t@[::1]x?password=s3cr3t",
		"postgres://h/db?x=1&password=s3cr3t&[",
		"postgres://u:s3cr3t%zz@h",
		"postgres://u:s3cr3t%0@h",
		"postgres://u:s3cr3t%00@h",
		"postgres://u:s3 cr3t@h",
		"postgres://u:s3cr3t @h/db?password=s3cr3t%zz",
		"postgres://h/db?password=s3cr3t%zz",
		"postgres://h/db?password=s3cr3t%00",
		"postgres://h/db?password=s3%20cr3t x",
		"postgres://h/db?sslpassword=s3cr3t x",
		"postgres://h/db?oauth_client_secret=s3cr3t%",
		"postgres://h/db?password=s3cr3t&foo=1",
		"postgres://u:s3cr3t@h/db?foo=1",
		"password=s3cr3t oops",
		"password=s3cr3t cr3t=1",
		"password='s3cr3t",
		"password='s3cr3t' foo=1",
		"sslpassword=s3cr3t x",
		"password=s3cr3t\x00",
	}
	for _, in := range inputs {
		_, err := pgconf.Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", in)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "s3") || strings.Contains(msg, "cr3t") {
			t.Errorf("Parse(%q) error quotes the secret: %s", in, msg)
		}
	}
}
