package cli

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/query"
)

// TestCompletionGivesUpInTime: a server that accepts the connection and
// then says nothing gets no more than completionTimeout; the shell gets no
// completions and no message.
func TestCompletionGivesUpInTime(t *testing.T) {
	clearPGEnv(t)
	old := completionTimeout
	completionTimeout = 300 * time.Millisecond
	t.Cleanup(func() { completionTimeout = old })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c // held open, never answered
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := Run(context.Background(), []string{"__complete", "stream", "-d", "host=127.0.0.1 port=" + port + " sslmode=disable", "v_"}, &stdout, &stderr)
	elapsed := time.Since(start)
	select {
	case c := <-accepted:
		defer c.Close()
	default:
		t.Error("the completion never connected")
	}
	if code != 0 || stdout.String() != ":4\n" || stderr.String() != "Completion ended with directive: ShellCompDirectiveNoFileComp\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0, only the directive", code, stdout.String(), stderr.String())
	}
	// Generous for a loaded machine, yet far below a connect that waits
	// for the server.
	if elapsed > completionTimeout+2*time.Second {
		t.Errorf("took %s with a timeout of %s", elapsed, completionTimeout)
	}
}

func TestCompletionNames(t *testing.T) {
	rel := func(schema, name string, visible bool) relationInfo {
		return relationInfo{rel: query.Relation{Schema: schema, Name: name}, kind: "view", typ: "jsonb", visible: visible}
	}
	rels := []relationInfo{
		rel("Odd Schema", "MixedCase", false),
		rel("api", "v_user", false),
		rel("public", "v.dot", true),
		rel("public", "v_user", true),
		rel("public", "tab\there", true),
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{`"Odd Schema"."MixedCase"`, "api.v_user", `"v.dot"`, "v_user"}},
		{"v", []string{"v_user"}}, // "v.dot" is quoted: it does not begin with v
		{"v_", []string{"v_user"}},
		{"api.", []string{"api.v_user"}},
		{"public.", []string{`public."v.dot"`, "public.v_user"}},
		{`"v.`, []string{`"v.dot"`}},
		{"pu", []string{`public."v.dot"`, "public.v_user"}},
		{"x", nil},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			var got []string
			for _, c := range completionNames(rels, tc.prefix) {
				name, desc, _ := strings.Cut(c, "\t")
				if desc != "view, jsonb" {
					t.Errorf("%q: description %q", name, desc)
				}
				got = append(got, name)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("completionNames(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
		})
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		`"Odd Schema"`:  `"Odd Schema"`,
		"\"tab\there\"": `\"tab\there\"`,
		"line\nbreak":   `line\nbreak`,
		"données":       "données",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %s, want %s", in, got, want)
		}
	}
}
