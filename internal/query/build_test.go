package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

func TestBuild(t *testing.T) {
	rel := query.Relation{Name: "v_user"}
	narrowing := &query.Narrowing{Select: "f(\"data\")", Notes: []string{"only .a", "select(.b)"}}
	tests := []struct {
		name string
		spec query.Spec
		want string
	}{
		{"bare", query.Spec{Relation: rel, Column: "data", Limit: -1},
			"SELECT \"data\"\nFROM \"v_user\""},
		{"one where", query.Spec{Relation: rel, Column: "data", Limit: -1, Where: []string{"data->>'a' = 'b'"}},
			"SELECT \"data\"\nFROM \"v_user\"\nWHERE (\ndata->>'a' = 'b'\n)"},
		{"two wheres ANDed", query.Spec{Relation: rel, Column: "data", Limit: -1, Where: []string{"a OR b", "c -- comment"}},
			"SELECT \"data\"\nFROM \"v_user\"\nWHERE (\na OR b\n) AND (\nc -- comment\n)"},
		{"order limit offset", query.Spec{Relation: query.Relation{Schema: "Odd Schema", Name: "MixedCase"}, Column: "Data", OrderBy: "data->>'name' -- c", Limit: 10, Offset: 5},
			"SELECT \"Data\"\nFROM \"Odd Schema\".\"MixedCase\"\nORDER BY\ndata->>'name' -- c\n\nLIMIT 10\nOFFSET 5"},
		{"limit zero", query.Spec{Relation: rel, Column: "data", Limit: 0},
			"SELECT \"data\"\nFROM \"v_user\"\nLIMIT 0"},
		// fraise's --jq narrowing replaces the column under its own name,
		// after its notes as comments.
		{"narrowed", query.Spec{Relation: rel, Column: "data", Limit: -1, Narrowing: narrowing},
			"SELECT /* only .a */\n/* select(.b) */\nf(\"data\") AS \"fraise:narrowed\"\nFROM \"v_user\""},
		{"narrowed, with --where, a range and ORDER BY", query.Spec{Relation: rel, Column: "data", Limit: -1, Where: []string{"a -- c"},
			Range: &query.Range{Key: "id", Lo: true, Param: 3}, OrderBy: "data", Narrowing: narrowing},
			"SELECT /* only .a */\n/* select(.b) */\nf(\"data\") AS \"fraise:narrowed\"\nFROM \"v_user\"\nWHERE (\na -- c\n) AND (\n(\nid\n) >= $3\n)\nORDER BY\ndata\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := query.Build(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if st.SQL != tt.want {
				t.Errorf("SQL =\n%s\nwant\n%s", st.SQL, tt.want)
			}
			for _, f := range st.Fragments {
				runes := []rune(st.SQL)
				got := string(runes[f.Start : f.Start+len([]rune(f.Text))])
				if got != f.Text {
					t.Errorf("fragment %q recorded at %d, SQL has %q there", f.Text, f.Start, got)
				}
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	rel := query.Relation{Name: "v"}
	for _, spec := range []query.Spec{
		{Relation: rel, Column: "data", Where: []string{"  "}},
		{Relation: rel, Column: "data", Where: []string{"a\x00b"}},
		{Relation: rel, Column: "data", OrderBy: "\t"},
		{Relation: rel, Column: "data", Where: []string{"\xff"}},
	} {
		if _, err := query.Build(spec); err == nil {
			t.Errorf("Build(%+v) succeeded, want an error", spec)
		}
	}
}

// TestBuildRejectsPart: a refused fragment says which part of the
// statement it was for, in SQL's terms; the flag is the caller's to name.
func TestBuildRejectsPart(t *testing.T) {
	rel := query.Relation{Name: "v"}
	for _, tc := range []struct {
		name string
		spec query.Spec
		part query.Part
		want string
	}{
		{"empty where", query.Spec{Relation: rel, Column: "data", Where: []string{"ok", " "}}, query.PartWhere,
			"WHERE: the SQL fragment is empty; give an expression or leave the flag out"},
		{"NUL in where", query.Spec{Relation: rel, Column: "data", Where: []string{"a\x00b"}}, query.PartWhere,
			"WHERE: the SQL fragment contains a NUL byte"},
		{"empty order by", query.Spec{Relation: rel, Column: "data", OrderBy: "\t"}, query.PartOrderBy,
			"ORDER BY: the SQL fragment is empty; give an expression or leave the flag out"},
		{"invalid UTF-8 in order by", query.Spec{Relation: rel, Column: "data", OrderBy: "\xff"}, query.PartOrderBy,
			"ORDER BY: the SQL fragment is not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := query.Build(tc.spec)
			var fe *query.FragmentError
			if !errors.As(err, &fe) || fe.Part != tc.part || err.Error() != tc.want {
				t.Errorf("Build = %v; want a FragmentError for %v: %q", err, tc.part, tc.want)
			}
		})
	}
}

// TestLocate finds a server position in the fragment it falls in; the
// caret the CLI draws under it is tested in internal/cli (TestCaretUnderFragment).
func TestLocate(t *testing.T) {
	st, err := query.Build(query.Spec{
		Relation: query.Relation{Name: "v"}, Column: "data", Limit: -1,
		Where:   []string{"data->>'naïve' = 'café'", "data->>'x' =! 'y'"},
		OrderBy: "a,\nb c d",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Server positions are 1-based characters: find "=!" in the second fragment.
	runes := []rune(st.SQL)
	pos := strings.Index(string(runes), "=!")
	pos = len([]rune(string(runes)[:pos])) + 1
	f, off, ok := query.Statement.Locate(st, pos)
	if !ok || f.Text != "data->>'x' =! 'y'" || f.Part != query.PartWhere || off != 11 {
		t.Fatalf("Locate(%d) = %+v, %d, %v", pos, f, off, ok)
	}
	// A position after multibyte text in the first fragment.
	pos1 := len([]rune("SELECT \"data\"\nFROM \"v\"\nWHERE (\ndata->>'naïve' = ")) + 1
	f, off, ok = st.Locate(pos1)
	if !ok || f.Part != query.PartWhere || off != len([]rune("data->>'naïve' = ")) {
		t.Fatalf("Locate(%d) = %+v, %d, %v", pos1, f, off, ok)
	}
	// The second line of a multi-line fragment is shown alone.
	posB := strings.Index(st.SQL, "b c d")
	posB = len([]rune(st.SQL[:posB])) + 3
	f, off, ok = st.Locate(posB)
	if !ok || f.Part != query.PartOrderBy || off != len("a,\nb ") {
		t.Fatalf("Locate(%d) = %+v, %d, %v", posB, f, off, ok)
	}
	// The closing parenthesis right after a fragment points at its end.
	closing := strings.Index(st.SQL, "'y'\n)") + len("'y'\n)")
	f, off, ok = st.Locate(len([]rune(st.SQL[:closing])))
	if !ok || f.Text != "data->>'x' =! 'y'" || off != len("data->>'x' =! 'y'") {
		t.Errorf("Locate(closing paren) = %+v, %d, %v; want the end of the second fragment", f, off, ok)
	}
	// Outside every fragment.
	if _, _, ok := st.Locate(1); ok {
		t.Error("Locate(1) found a fragment in SELECT")
	}
}
