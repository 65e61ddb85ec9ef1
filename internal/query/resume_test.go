package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

// TestBuildResume: a resumable statement selects the key's texts and the
// order check, under names no ORDER BY item can mean, before the column;
// continues after the key bound from $After on, cast to the key's types;
// and compares over a window in the statement's own order.
func TestBuildResume(t *testing.T) {
	spec := query.Spec{Relation: query.Relation{Name: "v"}, Column: "data", Where: []string{"x = $1"}, OrderBy: "a DESC, b DESC", Limit: 10,
		Resume: &query.Resume{After: 2, Types: []string{"integer", "text"}, Check: true}}
	st, err := query.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT (\na\n)::text AS \"fraise:key1\",\n(\nb\n)::text AS \"fraise:key2\",\nCOALESCE((((\na\n), (\nb\n)) < (lag((\na\n)) OVER fraise_order, lag((\nb\n)) OVER fraise_order))::text, pg_catalog.now()::text) AS \"fraise:after\",\n\"data\"\n" +
		"FROM \"v\"\nWHERE (\nx = $1\n)\nAND (((\na\n), (\nb\n)) < ($2::integer, $3::text))\nWINDOW fraise_order AS (ORDER BY\na DESC, b DESC\n)\nORDER BY\na DESC, b DESC\n\nLIMIT 10"
	if st.SQL != want {
		t.Errorf("SQL =\n%s\nwant\n%s", st.SQL, want)
	}
	for _, f := range st.Fragments {
		if got := string([]rune(st.SQL)[f.Start : f.Start+len([]rune(f.Text))]); got != f.Text {
			t.Errorf("fragment %q recorded at %d, SQL has %q there", f.Text, f.Start, got)
		}
	}
}

// TestResumeKeysRefuses: a resumable statement needs an ORDER BY whose
// items all sort the same way, without USING.
func TestResumeKeysRefuses(t *testing.T) {
	for orderBy, want := range map[string]string{
		"":                 "--resume needs --order-by",
		"a, b DESC":        "sorted the same way",
		"a USING <":        "USING",
		"a DESC, b":        "sorted the same way",
		"a NULLS FIRST, b": "",
	} {
		_, err := query.ResumeKeys(orderBy)
		var fe *query.FragmentError
		if want == "" {
			if err != nil {
				t.Errorf("ResumeKeys(%q): %v", orderBy, err)
			}
			continue
		}
		if !errors.As(err, &fe) || fe.Part != query.PartOrderBy || !strings.Contains(err.Error(), want) {
			t.Errorf("ResumeKeys(%q) = %v, want an ORDER BY FragmentError saying %q", orderBy, err, want)
		}
	}
}

// TestBuildResumeClientChecked: a key the client checks is selected
// alone, without the server's window.
func TestBuildResumeClientChecked(t *testing.T) {
	st, err := query.Build(query.Spec{Relation: query.Relation{Name: "v"}, Column: "data", OrderBy: "id", Limit: -1, Resume: &query.Resume{}})
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT (\nid\n)::text AS \"fraise:key1\",\n\"data\"\nFROM \"v\"\nORDER BY\nid\n"
	if st.SQL != want {
		t.Errorf("SQL =\n%s\nwant\n%s", st.SQL, want)
	}
}
