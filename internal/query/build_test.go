package query_test

import (
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

func TestBuild(t *testing.T) {
	rel := query.Relation{Name: "v_user"}
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

func TestLocateAndCaret(t *testing.T) {
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
	if !ok || f.Text != "data->>'x' =! 'y'" || off != 11 {
		t.Fatalf("Locate(%d) = %+v, %d, %v", pos, f, off, ok)
	}
	got := query.Caret(f, off, "  ")
	want := "  --where data->>'x' =! 'y'\n                     ^"
	if got != want {
		t.Errorf("Caret =\n%s\nwant\n%s", got, want)
	}
	// A position after multibyte text in the first fragment.
	pos1 := len([]rune("SELECT \"data\"\nFROM \"v\"\nWHERE (\ndata->>'naïve' = ")) + 1
	f, off, ok = st.Locate(pos1)
	if !ok || f.Flag != "--where" || off != len([]rune("data->>'naïve' = ")) {
		t.Fatalf("Locate(%d) = %+v, %d, %v", pos1, f, off, ok)
	}
	if got := query.Caret(f, off, ""); !strings.HasSuffix(got, "\n"+strings.Repeat(" ", len("--where ")+len([]rune("data->>'naïve' = ")))+"^") {
		t.Errorf("caret misplaced after multibyte text:\n%s", got)
	}
	// The second line of a multi-line fragment is shown alone.
	posB := strings.Index(st.SQL, "b c d")
	posB = len([]rune(st.SQL[:posB])) + 3
	f, off, ok = st.Locate(posB)
	if !ok || f.Flag != "--order-by" {
		t.Fatalf("Locate(%d) = %+v, %v", posB, f, ok)
	}
	if got, want := query.Caret(f, off, ""), "--order-by b c d\n             ^"; got != want {
		t.Errorf("Caret =\n%q\nwant\n%q", got, want)
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
