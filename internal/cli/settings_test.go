package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/cli"
)

// settingCase runs fraise with a config file whose default profile p
// holds profile (YAML lines, indented under p), env set and args. No
// server is reached: PGHOST points nowhere, so a run whose settings are
// all accepted ends with exit 3 at connecting.
type settingCase struct {
	name    string
	profile string   // YAML under profiles.p, one "key: value" per line
	env     []string // KEY=VALUE
	args    []string // after "stream v_user" (or the whole command line when cmd is set)
	cmd     []string // the command and its arguments, default stream v_user
	code    int
	// want is the first line of stderr, with {conf} for the config file; or
	// with has, a text stderr must hold.
	want string
	has  string
	// hasNot is a text stderr must not hold.
	hasNot string
}

// nowhere is where PGHOST points: a run that gets there has taken every
// setting.
const nowhere = "/nonexistent/fraise-settings-test"

func (tc settingCase) run(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "FRAISE_") {
			t.Setenv(k, "") // restored at the end of the test
			_ = os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir) // no config file but the test's
	t.Setenv("PGHOST", nowhere)
	t.Setenv("PGPORT", "1")
	t.Setenv("PGPASSFILE", filepath.Join(dir, "none"))
	conf := filepath.Join(dir, "conf.yaml")
	body := "default_profile: p\nprofiles:\n  p:\n"
	if tc.profile == "" {
		body += "    {}\n"
	}
	for line := range strings.Lines(tc.profile) {
		body += "    " + line
	}
	if err := os.WriteFile(conf, []byte(body+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FRAISE_CONFIG", conf)
	for _, kv := range tc.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	args := tc.cmd
	if args == nil {
		args = append([]string{"stream", "v_user"}, tc.args...)
	}
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, &out, &errb)
	stderr := errb.String()
	first, _, _ := strings.Cut(stderr, "\n")
	switch want := strings.ReplaceAll(tc.want, "{conf}", conf); {
	case code != tc.code:
		t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
	case tc.want != "" && first != "fraise: "+want:
		t.Errorf("stderr:\n%s\nwant first line:\nfraise: %s", stderr, want)
	case tc.has != "" && !strings.Contains(stderr, strings.ReplaceAll(tc.has, "{conf}", conf)):
		t.Errorf("stderr does not hold %q:\n%s", tc.has, stderr)
	case tc.hasNot != "" && strings.Contains(stderr, tc.hasNot):
		t.Errorf("stderr holds %q:\n%s", tc.hasNot, stderr)
	}
}

// reached is what stderr says when the run got to connecting.
const reached = `connection to server on socket "` + nowhere

// TestProfileValueTypes: a profile value of the wrong type for its
// setting is a usage error naming the file, the profile, the key, the
// type wanted and the value, never dropped (YAML reads false, 0 and 1e6
// as a boolean and numbers, which are refused for a string rather than
// converted); values of the right type are taken.
func TestProfileValueTypes(t *testing.T) {
	const quote = `; quote it ("…") for YAML to read it as a string`
	for _, tc := range []settingCase{
		{name: "where false", profile: "where: false", code: 2,
			want: "config file {conf}, profile p: where must be a string or a list of strings, got false (a boolean)" + quote},
		{name: "where 0", profile: "where: 0", code: 2,
			want: "config file {conf}, profile p: where must be a string or a list of strings, got 0 (a number)" + quote},
		{name: "where mapping", profile: "where: {active: true}", code: 2,
			want: "config file {conf}, profile p: where must be a string or a list of strings, got a mapping"},
		{name: "where without value", profile: "where:", code: 2,
			want: "config file {conf}, profile p: where must be a string or a list of strings, got no value"},
		{name: "where list with a number", profile: "where: [\"true\", 5]", code: 2,
			want: "config file {conf}, profile p: where: item 2 must be a string, got 5 (a number)" + quote},
		{name: "order_by mapping", profile: "order_by: {id: desc}", code: 2,
			want: "config file {conf}, profile p: order_by must be a string, got a mapping"},
		{name: "order_by number", profile: "order_by: 1", code: 2,
			want: "config file {conf}, profile p: order_by must be a string, got 1 (a number)" + quote},
		{name: "stats list", profile: "stats: [true]", code: 2,
			want: "config file {conf}, profile p: stats must be a boolean (true/false, yes/no, on/off or 1/0), got a list"},
		{name: "quiet banana", profile: "quiet: banana", code: 2,
			want: `config file {conf}, profile p: quiet must be a boolean (true/false, yes/no, on/off or 1/0), got "banana"`},
		{name: "verbose 2", profile: "verbose: 2", code: 2,
			want: "config file {conf}, profile p: verbose must be a boolean (true/false, yes/no, on/off or 1/0), got 2 (a number)"},
		{name: "param 1e6", profile: "param: 1e6", code: 2,
			want: "config file {conf}, profile p: param must be a string or a list of strings, got 1e+06 (a number with a decimal point or an exponent)" + quote},
		{name: "dsn list", profile: "dsn: [\"host=a\", \"password=hunter2\"]", code: 2,
			want: "config file {conf}, profile p: dsn must be a string, got a list", hasNot: "hunter2"},
		{name: "limit list", profile: "limit: [1, 2]", code: 2,
			want: "config file {conf}, profile p: limit must be a whole number of rows, 0 or more, got a list"},
		{name: "limit 1e3", profile: "limit: 1e3", code: 2,
			want: "config file {conf}, profile p: limit must be a whole number of rows, 0 or more, got 1000 (a number with a decimal point or an exponent)"},
		{name: "limit true", profile: "limit: true", code: 2,
			want: "config file {conf}, profile p: limit must be a whole number of rows, 0 or more, got true (a boolean)"},
		{name: "chunk_size words", profile: "chunk_size: lots", code: 2,
			want: `config file {conf}, profile p: chunk_size must be a whole number of rows, 1 or more, got "lots"`},
		{name: "statement_timeout float", profile: "statement_timeout: 1.5", code: 2,
			want: "config file {conf}, profile p: statement_timeout must be a duration such as 30s or 1m30s (0 for none), got 1.5 (a number with a decimal point or an exponent)"},
		{name: "statement_timeout without unit", profile: "statement_timeout: 30", code: 2,
			want: "config file {conf}, profile p: statement_timeout 30 needs a unit: 30s, 30ms or 30m"},
		{name: "max_row_size words", profile: "max_row_size: big", code: 2,
			want: `config file {conf}, profile p: max_row_size: "big" is not a size; write it like 64MiB, 1GB or 1048576`},
		{name: "jq list", profile: "jq: [.a]", code: 2,
			want: "config file {conf}, profile p: jq must be a string, got a list"},
		{name: "password_command number", profile: "password_command: 5", code: 2,
			want: "config file {conf}, profile p: password_command must be a command line, got 5 (a number)"},

		// Good values of each type.
		{name: "string", profile: "order_by: \"data->>'id'\"\ncolumn: data\nformat: json", code: 3, has: reached},
		{name: "one where", profile: "where: \"true\"", code: 3, has: reached},
		{name: "where list", profile: "where: [\"true\", \"1 = 1\"]", code: 3, has: reached},
		{name: "param quoted", profile: "param: \"1e6\"", code: 3, has: reached},
		{name: "param list with an empty string", profile: "param: [\"\", \"x\"]", code: 3, has: reached},
		{name: "whole numbers", profile: "limit: 5\noffset: \"2\"\nchunk_size: 10", code: 3, has: reached},
		{name: "durations", profile: "statement_timeout: 0\nidle_timeout: 1m30s\nconnect_timeout: \"10s\"", code: 3, has: reached},
		{name: "sizes", profile: "max_row_size: 1048576", code: 3, has: reached},
		{name: "size with unit", profile: "max_row_size: 64MiB", code: 3, has: reached},
		{name: "dsn", profile: "dsn: \"host=" + nowhere + " port=1\"", code: 3, has: reached},
		{name: "stats true", profile: "stats: true", code: 3, has: `"exit_code":3`},
		{name: "stats false", profile: "stats: false", code: 3, hasNot: `"exit_code"`},
	} {
		t.Run(tc.name, tc.run)
	}
}

// TestBooleanSpellings: a boolean takes PostgreSQL's spellings (on/off,
// yes/no, true/false, 1/0, any case, unique prefixes) from a profile, a
// FRAISE_* variable and the command line, and refuses anything else with
// exit 2, naming where it came from and the spellings.
func TestBooleanSpellings(t *testing.T) {
	const spellings = "true/false, yes/no, on/off or 1/0"
	stats, noStats := `"exit_code":3`, `"exit_code"`
	var cases []settingCase
	for _, s := range []string{"yes", "YES", "on", "On", "true", "TRUE", "1", "y", "t", "tru"} {
		cases = append(cases,
			settingCase{name: "profile " + s, profile: "stats: \"" + s + "\"", code: 3, has: stats},
			settingCase{name: "FRAISE_STATS=" + s, env: []string{"FRAISE_STATS=" + s}, code: 3, has: stats},
			settingCase{name: "--stats=" + s, args: []string{"--stats=" + s}, code: 3, has: stats},
		)
	}
	for _, s := range []string{"no", "No", "off", "OFF", "false", "0", "n", "f", "of"} {
		cases = append(cases,
			settingCase{name: "profile " + s, profile: "stats: \"" + s + "\"", code: 3, hasNot: noStats},
			settingCase{name: "FRAISE_STATS=" + s, env: []string{"FRAISE_STATS=" + s}, code: 3, hasNot: noStats},
			settingCase{name: "--stats=" + s, args: []string{"--stats=" + s}, code: 3, hasNot: noStats},
		)
	}
	cases = append(cases,
		settingCase{name: "yes unquoted", profile: "stats: yes", code: 3, has: stats},
		settingCase{name: "profile 1 as a number", profile: "stats: 1", code: 3, has: stats},
		settingCase{name: "FRAISE_VERBOSE=on", env: []string{"FRAISE_VERBOSE=on"}, code: 3, has: "connection settings"},
		settingCase{name: "profile verbose yes", profile: "verbose: \"yes\"", code: 3, has: "connection settings"},
		settingCase{name: "FRAISE_QUIET=yes", env: []string{"FRAISE_QUIET=yes", "FRAISE_STATS=on"}, code: 3, has: stats},
		settingCase{name: "FRAISE_STATS=banana", env: []string{"FRAISE_STATS=banana"}, code: 2,
			want: `FRAISE_STATS="banana" is not a boolean; use ` + spellings + " (any case)"},
		settingCase{name: "FRAISE_STATS=o", env: []string{"FRAISE_STATS=o"}, code: 2,
			want: `FRAISE_STATS="o" is not a boolean; use ` + spellings + " (any case)"},
		settingCase{name: "FRAISE_RAW_OUTPUT=2", env: []string{"FRAISE_RAW_OUTPUT=2"}, code: 2,
			want: `FRAISE_RAW_OUTPUT="2" is not a boolean; use ` + spellings + " (any case)"},
		settingCase{name: "--stats=banana", args: []string{"--stats=banana"}, code: 2,
			want: `invalid argument "banana" for "--stats" flag: not a boolean; use ` + spellings},
		settingCase{name: "ping FRAISE_JSON=maybe", cmd: []string{"ping"}, env: []string{"FRAISE_JSON=maybe"}, code: 2,
			want: `FRAISE_JSON="maybe" is not a boolean; use ` + spellings + " (any case)"},
		settingCase{name: "views profile json", cmd: []string{"views"}, profile: "json: maybe", code: 2,
			want: `config file {conf}, profile p: json must be a boolean (` + spellings + `), got "maybe"`},
		settingCase{name: "ping --json=on", cmd: []string{"ping", "--json=on"}, code: 3, has: reached},
	)
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

// TestEmptyValues: an empty value is never read as "not given": on the
// command line, in a FRAISE_* variable that is set but empty, or in the
// profile, it is exit 2 saying what to give — but for --param, where the empty string
// is a value like any other, and -o -, standard output. A negative
// --limit is refused as --offset's is; only leaving --limit out means no
// limit.
func TestEmptyValues(t *testing.T) {
	empty := []struct{ flag, give string }{
		{"output", "a file name, or - for standard output"},
		{"where", "an SQL condition"},
		{"order-by", "an SQL ORDER BY expression"},
		{"column", "a column name"},
		{"jq", "a jq expression, such as --jq . or --jq .id"},
		{"arg", "NAME VALUE, or NAME=VALUE"},
		{"on-jq-error", "fail or skip"},
		{"compress", "gzip, zstd or none (leave it out to choose by the --output suffix)"},
		{"format", "ndjson or json"},
		{"progress", "auto, always or never"},
		{"log-format", "text or json"},
		{"dsn", "a connection string (leave it out for the PG* environment and libpq's defaults)"},
		{"connect-timeout", "a duration such as 30s, or 0 for none"},
		{"statement-timeout", "a duration such as 30s, or 0 for none"},
		{"idle-timeout", "a duration such as 30s, or 0 for none"},
		{"max-row-size", "a size such as 64MiB"},
		{"config", "a config file"},
		{"profile", "a profile name"},
	}
	var cases []settingCase
	for _, e := range empty {
		env := "FRAISE_" + strings.ToUpper(strings.ReplaceAll(e.flag, "-", "_"))
		cases = append(cases,
			settingCase{name: "--" + e.flag, args: []string{"--" + e.flag, ""}, code: 2,
				want: "--" + e.flag + " is empty; give " + e.give},
			settingCase{name: env, env: []string{env + "="}, code: 2,
				want: env + " is set but empty; give " + e.give + ", or unset " + env},
		)
		if e.flag != "config" && e.flag != "profile" && e.flag != "arg" {
			key := strings.ReplaceAll(e.flag, "-", "_")
			cases = append(cases, settingCase{name: "profile " + key, profile: key + ": \"\"", code: 2,
				want: "config file {conf}, profile p: " + key + " is empty; give " + e.give + ", or remove it"})
		}
	}
	cases = append(cases,
		settingCase{name: "FRAISE_LIMIT", env: []string{"FRAISE_LIMIT="}, code: 2,
			want: "FRAISE_LIMIT is set but empty; give a whole number, or unset FRAISE_LIMIT"},
		settingCase{name: "FRAISE_STATS", env: []string{"FRAISE_STATS="}, code: 2,
			want: "FRAISE_STATS is set but empty; give a boolean (true/false, yes/no, on/off or 1/0), or unset FRAISE_STATS"},
		settingCase{name: "profile where list with an empty string", profile: "where: [\"true\", \"\"]", code: 2,
			want: "config file {conf}, profile p: where is empty; give an SQL condition, or remove it"},
		settingCase{name: "ping FRAISE_DSN", cmd: []string{"ping"}, env: []string{"FRAISE_DSN="}, code: 2,
			want: "FRAISE_DSN is set but empty; give a connection string (leave it out for the PG* environment and libpq's defaults), or unset FRAISE_DSN"},
		settingCase{name: "views --column", cmd: []string{"views", "--column", ""}, code: 2,
			want: "--column is empty; give a column name"},
		settingCase{name: "--limit -1", args: []string{"--limit", "-1"}, code: 2,
			want: "--limit must be 0 or more, got -1; leave it out for no limit"},
		settingCase{name: "FRAISE_LIMIT=-1", env: []string{"FRAISE_LIMIT=-1"}, code: 2,
			want: "--limit must be 0 or more, got -1; leave it out for no limit"},
		settingCase{name: "profile limit -1", profile: "limit: -1", code: 2,
			want: "--limit must be 0 or more, got -1; leave it out for no limit"},
		// Decimal, as the command line reads it; a profile's unquoted
		// number is YAML's, which reads a leading 0 as octal (README).
		settingCase{name: "--limit -010", args: []string{"--limit", "-010"}, code: 2,
			want: "--limit must be 0 or more, got -10; leave it out for no limit"},
		settingCase{name: "profile limit \"-010\"", profile: `limit: "-010"`, code: 2,
			want: "--limit must be 0 or more, got -10; leave it out for no limit"},
		settingCase{name: "profile limit -010", profile: "limit: -010", code: 2,
			want: "--limit must be 0 or more, got -8; leave it out for no limit"},
		// Meaningful: standard output, an empty parameter, no limit.
		settingCase{name: "-o -", args: []string{"-o", "-"}, code: 3, has: reached},
		settingCase{name: "FRAISE_OUTPUT=-", env: []string{"FRAISE_OUTPUT=-"}, code: 3, has: reached},
		settingCase{name: "--param ''", args: []string{"--param", ""}, code: 3, has: reached},
		settingCase{name: "FRAISE_PARAM=", env: []string{"FRAISE_PARAM="}, code: 3, has: reached},
		settingCase{name: "no --limit", code: 3, has: reached},
		settingCase{name: "--limit 0", args: []string{"--limit", "0"}, code: 3, has: reached},
		// The flag wins over an empty variable, as over any.
		settingCase{name: "-o over an empty FRAISE_OUTPUT", env: []string{"FRAISE_OUTPUT="}, args: []string{"-o", "-"}, code: 3, has: reached},
	)
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}
