package query_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fraiseql/fraise/internal/query"
)

func TestFormatIdent(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "v_user", "v_user"},
		{"underscore start", "_x", "_x"},
		{"digits and dollar inside", "t$1_2", "t$1_2"},
		{"key word stays bare", "select", "select"},
		{"unicode letters", "données", "données"},
		{"combining mark", "cafe\u0301", "cafe\u0301"},
		{"upper case", "MixedCase", `"MixedCase"`},
		{"non-ASCII upper case is not folded", "Été", "Été"},
		{"space", "Odd Schema", `"Odd Schema"`},
		{"dot", "a.b", `"a.b"`},
		{"double quote", `a"b`, `"a""b"`},
		{"digit start", "1v", `"1v"`},
		{"dollar start", "$v", `"$v"`},
		{"hyphen", "v-user", `"v-user"`},
		{"no-break space", "a\u00a0b", "\"a\u00a0b\""},
		{"zero-width joiner", "a\u200db", "\"a\u200db\""},
		{"hostile", `x"; DROP TABLE t; --`, `"x""; DROP TABLE t; --"`},
		{"max length", strings.Repeat("a", 63), strings.Repeat("a", 63)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := query.FormatIdent(tt.in)
			if got != tt.want {
				t.Errorf("FormatIdent(%q) = %s, want %s", tt.in, got, tt.want)
			}
			// What is shown is read back as the same name.
			back, err := query.ParseColumn(got)
			if err != nil || back != tt.in {
				t.Errorf("ParseColumn(%s) = %q, %v; want %q", got, back, err, tt.in)
			}
		})
	}
}

func TestRelationDisplay(t *testing.T) {
	tests := []struct {
		name string
		rel  query.Relation
		want string
	}{
		{"unqualified", query.Relation{Name: "v_user"}, "v_user"},
		{"qualified", query.Relation{Schema: "public", Name: "v_user"}, "public.v_user"},
		{"both quoted", query.Relation{Schema: "Odd Schema", Name: "MixedCase"}, `"Odd Schema"."MixedCase"`},
		{"one quoted", query.Relation{Schema: "api", Name: "v.dot"}, `api."v.dot"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rel.Display()
			if got != tt.want {
				t.Errorf("Display() = %s, want %s", got, tt.want)
			}
			back, err := query.ParseRelation(got)
			if err != nil || back != tt.rel {
				t.Errorf("ParseRelation(%s) = %+v, %v; want %+v", got, back, err, tt.rel)
			}
		})
	}
}

func FuzzFormatIdent(f *testing.F) {
	for _, s := range []string{"v", "V", `a"b`, "a b", "é", "1a", "a\u00a0b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || len(s) > query.MaxIdentifierBytes || strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
			return // not a name PostgreSQL can hold
		}
		got := query.FormatIdent(s)
		if back, err := query.ParseColumn(got); err != nil || back != s {
			t.Fatalf("FormatIdent(%q) = %s, read back as %q, %v", s, got, back, err)
		}
	})
}
