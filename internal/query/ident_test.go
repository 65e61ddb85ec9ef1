package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

func TestParseRelation(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		want   query.Relation
		quoted string
	}{
		{"plain", "v_user", query.Relation{Name: "v_user"}, `"v_user"`},
		{"folded", "V_User", query.Relation{Name: "v_user"}, `"v_user"`},
		{"qualified", "public.v_user", query.Relation{Schema: "public", Name: "v_user"}, `"public"."v_user"`},
		{"quoted mixed case", `"Odd Schema"."MixedCase"`, query.Relation{Schema: "Odd Schema", Name: "MixedCase"}, `"Odd Schema"."MixedCase"`},
		{"quoted with escaped quote", `"a""b"`, query.Relation{Name: `a"b`}, `"a""b"`},
		{"quoted with dot", `"a.b"`, query.Relation{Name: "a.b"}, `"a.b"`},
		{"quoted hostile", `"x""; DROP TABLE t; --"`, query.Relation{Name: `x"; DROP TABLE t; --`}, `"x""; DROP TABLE t; --"`},
		{"dollar and digits", "t$1_2", query.Relation{Name: "t$1_2"}, `"t$1_2"`},
		{"unicode unquoted", "données", query.Relation{Name: "données"}, `"données"`},
		{"only ASCII letters fold", "ÉTÉ", query.Relation{Name: "ÉtÉ"}, `"ÉtÉ"`},
		{"underscore start", "_x", query.Relation{Name: "_x"}, `"_x"`},
		{"max length", strings.Repeat("a", 63), query.Relation{Name: strings.Repeat("a", 63)}, `"` + strings.Repeat("a", 63) + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := query.ParseRelation(tt.input)
			if err != nil {
				t.Fatalf("ParseRelation(%q): %v", tt.input, err)
			}
			if got != tt.want {
				t.Errorf("ParseRelation(%q) = %+v, want %+v", tt.input, got, tt.want)
			}
			if got.String() != tt.quoted {
				t.Errorf("String() = %s, want %s", got.String(), tt.quoted)
			}
		})
	}
}

func TestParseRelationRejects(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		reason string
	}{
		{"empty", "", "empty"},
		{"statement", "v; DROP TABLE t", "quote the name"},
		{"space", "v user", "quote the name"},
		{"comment", "v--", "quote the name"},
		{"paren", "v()", "quote the name"},
		{"starts with digit", "1v", "must start with a letter"},
		{"starts with dollar", "$v", "must start with a letter"},
		{"three parts", "a.b.c", "more than two"},
		{"trailing dot", "a.", "missing after the last dot"},
		{"leading dot", ".a", "missing before a dot"},
		{"double dot", "a..b", "missing before a dot"},
		{"unclosed quote", `"abc`, "not closed"},
		{"empty quoted", `""`, "may not be empty"},
		{"junk after quote", `"a"b`, "after a quoted name"},
		{"nul in quoted", "\"a\x00b\"", "NUL"},
		{"nul unquoted", "a\x00b", "quote the name"},
		{"too long", strings.Repeat("a", 64), "at most 63 bytes"},
		{"too long quoted multibyte", `"` + strings.Repeat("é", 32) + `"`, "at most 63 bytes"},
		{"invalid utf8", "v\xff", "UTF-8"},
		{"semicolon", "v;", "quote the name"},
		{"quote in middle", `v"x"`, "quote the name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := query.ParseRelation(tt.input)
			var ie *query.IdentError
			if !errors.As(err, &ie) {
				t.Fatalf("ParseRelation(%q) error = %v, want *IdentError", tt.input, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not mention %q", err, tt.reason)
			}
		})
	}
}

func TestParseColumn(t *testing.T) {
	if got, err := query.ParseColumn("Data"); err != nil || got != "data" {
		t.Errorf("ParseColumn(Data) = %q, %v", got, err)
	}
	if got, err := query.ParseColumn(`"Data"`); err != nil || got != "Data" {
		t.Errorf(`ParseColumn("Data") = %q, %v`, got, err)
	}
	if _, err := query.ParseColumn("t.data"); err == nil || !strings.Contains(err.Error(), "--column") {
		t.Errorf("ParseColumn(t.data) error = %v, want one naming --column", err)
	}
}

func FuzzParseRelation(f *testing.F) {
	for _, s := range []string{"v", `"a""b".c`, "a.b", `"x`, "a..b", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := query.ParseRelation(s)
		if err != nil {
			return
		}
		// Whatever parses must round-trip through its quoted form.
		back, err := query.ParseRelation(r.String())
		if err != nil || back != r {
			t.Fatalf("round trip of %q via %s: %+v, %v", s, r.String(), back, err)
		}
	})
}
