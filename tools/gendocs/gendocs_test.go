package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// generate runs gendocs into a temporary directory and returns it.
func generate(t *testing.T) (manDir, compDir string) {
	t.Helper()
	dir := t.TempDir()
	manDir, compDir = filepath.Join(dir, "man"), filepath.Join(dir, "completions")
	t.Setenv("SOURCE_DATE_EPOCH", "")
	if err := run([]string{"-man", manDir, "-completions", compDir}); err != nil {
		t.Fatal(err)
	}
	return manDir, compDir
}

// pageCommands returns the commands that get a page, from a fresh tree.
func pageCommands() []*cobra.Command { return manCommands(cli.NewRootCommand()) }

func readPage(t *testing.T, dir string, c *cobra.Command) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, manName(c)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestManPages: one page per command a user can run, none other; each has
// the sections, every flag, only ASCII, the fixed date.
func TestManPages(t *testing.T) {
	dir, _ := generate(t)
	var want []string
	for _, c := range pageCommands() {
		want = append(want, manName(c))
	}
	for _, name := range []string{"fraise.1", "fraise-stream.1", "fraise-version.1", "fraise-completion.1"} {
		if !slices.Contains(want, name) {
			t.Errorf("no page %s among %v", name, want)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("pages = %v, want %v (no help, no hidden __complete)", got, want)
	}
	for _, c := range pageCommands() {
		page := readPage(t, dir, c)
		t.Run(manName(c), func(t *testing.T) {
			sections := []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"}
			if c.Example != "" || !c.HasParent() {
				sections = append(sections, "EXAMPLES")
			}
			for _, s := range sections {
				if !strings.Contains(page, "\n.SH "+s+"\n") && !strings.Contains(page, "\n.SH \""+s+"\"\n") {
					t.Errorf("no section %s", s)
				}
			}
			if !strings.HasPrefix(page, `.TH "`+strings.ToUpper(strings.TrimSuffix(manName(c), ".1"))+`" "1" "Dec 2026" "fraise" "User Commands"`) {
				t.Errorf("header: %q", page[:min(len(page), 100)])
			}
			var flags []*pflag.Flag
			c.Flags().VisitAll(func(f *pflag.Flag) { flags = append(flags, f) })
			c.InheritedFlags().VisitAll(func(f *pflag.Flag) { flags = append(flags, f) })
			for _, f := range flags {
				if !strings.Contains(page, `\fB--`+f.Name+`\fP`) {
					t.Errorf("flag --%s is missing", f.Name)
				}
			}
			for i, r := range page {
				if r >= 0x80 || (r < 0x20 && r != '\n' && r != '\t') {
					t.Fatalf("character %q at byte %d: the roff must be ASCII", r, i)
				}
			}
		})
	}
	root := readPage(t, dir, pageCommands()[0])
	for _, code := range []string{"0", "1", "2", "3", "4", "5", "6", "130", "143"} {
		if !strings.Contains(root, ".TP\n.B "+code+"\n") {
			t.Errorf("fraise.1: exit status %s is missing", code)
		}
	}
	for _, v := range []string{"FRAISE_CONFIG", "FRAISE_PROFILE", "FRAISE_<FLAG>", "PGHOST", "PGSSLMODE", "GOGC, GOMEMLIMIT", "XDG_CONFIG_HOME"} {
		if !strings.Contains(root, ".B "+roffText(v)+"\n") {
			t.Errorf("fraise.1: variable %s is missing", v)
		}
	}
	for _, f := range []string{"~/.pgpass", "$XDG_CONFIG_HOME/fraise/config.yaml", "~/.pg_service.conf", "~/.postgresql/root.crt"} {
		if !strings.Contains(root, roffText(f)) {
			t.Errorf("fraise.1: file %s is missing", f)
		}
	}
}

// TestStreamEnvironment: the stream page names FRAISE_<FLAG> for each of
// its flags.
func TestStreamEnvironment(t *testing.T) {
	dir, _ := generate(t)
	root := cli.NewRootCommand()
	stream, _, err := root.Find([]string{"stream"})
	if err != nil {
		t.Fatal(err)
	}
	page := readPage(t, dir, stream)
	stream.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && !strings.Contains(page, ".B "+roffText(envName(f.Name))+"\n") {
			t.Errorf("%s is missing", envName(f.Name))
		}
	})
	if !strings.Contains(page, ".B FRAISE_ORDER_BY\n") {
		t.Error("FRAISE_ORDER_BY is missing")
	}
}

// TestDeterministic: two runs write the same bytes; SOURCE_DATE_EPOCH sets
// the date.
func TestDeterministic(t *testing.T) {
	a, ac := generate(t)
	b, bc := generate(t)
	for _, d := range [][2]string{{a, b}, {ac, bc}} {
		entries, err := os.ReadDir(d[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			x, _ := os.ReadFile(filepath.Join(d[0], e.Name()))
			y, err := os.ReadFile(filepath.Join(d[1], e.Name()))
			if err != nil || !bytes.Equal(x, y) {
				t.Errorf("%s differs between two runs (%v)", e.Name(), err)
			}
		}
	}
	tm, err := pageDate("1700000000")
	if err != nil || !tm.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("pageDate(1700000000) = %v, %v", tm, err)
	}
	if tm, err := pageDate(""); err != nil || !tm.Equal(defaultDate) {
		t.Errorf("pageDate(\"\") = %v, %v; want defaultDate", tm, err)
	}
	if _, err := pageDate("yesterday"); err == nil {
		t.Error("pageDate(yesterday) succeeded")
	}
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000") // November 2023
	if err := run([]string{"-man", dir, "-completions", filepath.Join(dir, "c")}); err != nil {
		t.Fatal(err)
	}
	if page, _ := os.ReadFile(filepath.Join(dir, "fraise.1")); !bytes.Contains(page, []byte(`"Nov 2023"`)) {
		t.Errorf("SOURCE_DATE_EPOCH not used: %.100s", page)
	}
}

// TestMarkdownText: help text comes out of Markdown as written.
func TestMarkdownText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"FRAISE_<FLAG> and *x* `y`", `FRAISE\_\<FLAG\> and \*x\* \` + "`y\\`"},
		{"- not a list\n1. not either", `\- not a list` + "\n" + `1\. not either`},
		{"intro:\n  SELECT <a>\n    FROM b\nafter", "intro:\n\n```\nSELECT <a>\n  FROM b\n```\n\nafter"},
		{"one\n\ntwo", "one\n\ntwo"},
	} {
		if got := markdownText(tt.in); got != tt.want {
			t.Errorf("markdownText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := roffText(".start \\ -x\n'quote"); got != `\&.start \e \-x`+"\n"+`\&'quote` {
		t.Errorf("roffText = %q", got)
	}
	if got := string(asciiRoff([]byte("a … b"))); got != `a \[u2026] b` {
		t.Errorf("asciiRoff = %q", got)
	}
}

// groff returns groff's path; without it the rendering tests are skipped,
// except under CI=true, where they fail.
func groff(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("groff")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("groff is needed to check the man pages (apt-get install groff-base): %v", err)
		}
		t.Skipf("groff not found (apt-get install groff-base): %v", err)
	}
	return path
}

// TestManRenders: groff renders every page without a warning (-ww), and
// the rendered text holds each command's description, flag usages and
// examples as written.
func TestManRenders(t *testing.T) {
	bin := groff(t)
	dir, _ := generate(t)
	pages, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	var stderr bytes.Buffer
	cmd := groffCmd(bin, append([]string{"-man", "-Tutf8", "-ww", "-z"}, pages...)...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("groff -ww -z: %v\n%s", err, stderr.Bytes())
	}
	for _, c := range pageCommands() {
		t.Run(manName(c), func(t *testing.T) {
			out, err := groffCmd(bin, "-man", "-Tutf8", "-P-cbou", "-rLL=200n", filepath.Join(dir, manName(c))).Output()
			if err != nil {
				t.Fatal(err)
			}
			text := normalize(string(out))
			var want []string
			for _, p := range strings.Split(c.Long, "\n\n") {
				want = append(want, normalize(p))
			}
			c.LocalFlags().VisitAll(func(f *pflag.Flag) {
				_, usage := pflag.UnquoteUsage(f)
				want = append(want, normalize(usage))
			})
			for _, l := range strings.Split(c.Example, "\n") {
				want = append(want, normalize(l))
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("rendered page lacks %q", w)
				}
			}
		})
	}
}

// groffCmd runs groff without SOURCE_DATE_EPOCH, which generate sets
// empty and groff refuses when empty.
func groffCmd(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SOURCE_DATE_EPOCH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}

var space = regexp.MustCompile(`\s+`)

// normalize makes text comparable across filling: one space between
// words, none at a line break after a hyphen.
func normalize(s string) string {
	s = regexp.MustCompile(`-\n\s*`).ReplaceAllString(s, "-")
	return strings.TrimSpace(space.ReplaceAllString(s, " "))
}

// TestCompletions: the scripts are what "fraise completion SHELL" prints,
// and the bash one is valid bash.
func TestCompletions(t *testing.T) {
	_, dir := generate(t)
	for shell, file := range map[string]string{"bash": "fraise.bash", "zsh": "fraise.zsh", "fish": "fraise.fish", "powershell": "fraise.ps1"} {
		var stdout, stderr bytes.Buffer
		if code := cli.Run(context.Background(), []string{"completion", shell}, &stdout, &stderr); code != 0 {
			t.Fatalf("fraise completion %s: exit %d: %s", shell, code, stderr.Bytes())
		}
		got, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || !bytes.Equal(got, stdout.Bytes()) {
			t.Errorf("%s differs from fraise completion %s", file, shell)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	if out, err := exec.Command(bash, "-n", filepath.Join(dir, "fraise.bash")).CombinedOutput(); err != nil {
		t.Errorf("bash -n fraise.bash: %v\n%s", err, out)
	}
}

// TestPGVarsRead: every PG* variable the pages list is one the connection
// layer reads, and every one it reads is listed.
func TestPGVarsRead(t *testing.T) {
	asked := map[string]bool{}
	for _, service := range []bool{false, true} {
		env := wire.Environment{
			LookupEnv: func(k string) (string, bool) {
				asked[k] = true
				if service && k == "PGSERVICE" {
					return "nosuchservice", true
				}
				return "", false
			},
			Username: func() (string, error) { return "u", nil },
			HomeDir:  func() (string, error) { return t.TempDir(), nil },
		}
		_, _ = wire.ParseConfig("", env) // the lookups are what counts
	}
	documented := map[string]bool{}
	for _, v := range pgVars {
		documented[v.name] = true
	}
	for _, v := range pgVarsRefused {
		documented[v] = true
	}
	for v := range documented {
		if !asked[v] {
			t.Errorf("%s is documented but not read", v)
		}
	}
	for v := range asked {
		if strings.HasPrefix(v, "PG") && !documented[v] {
			t.Errorf("%s is read but not documented", v)
		}
	}
}
