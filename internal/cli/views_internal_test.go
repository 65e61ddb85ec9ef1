package cli

import (
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

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
