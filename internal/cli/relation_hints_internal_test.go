package cli

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
)

// TestNearRelations: the relations named most like the one typed, as the
// user would type them: without the schema when search_path finds them
// and none was typed, shell-quoted when they need SQL quotes.
func TestNearRelations(t *testing.T) {
	rel := func(schema, name string, visible bool) relationInfo {
		return relationInfo{rel: query.Relation{Schema: schema, Name: name}, visible: visible}
	}
	rels := []relationInfo{
		rel("Odd Schema", "MixedCase", false),
		rel("app", "v_order", false),
		rel("public", "users", true),
		rel("public", "v_seq", true),
		rel("public", "v_user", true),
		rel("public", "v_user_json", true),
		rel("public", "v_users", true),
	}
	for _, tc := range []struct {
		typed string
		want  []string
	}{
		{"v_usr", []string{"v_user"}},
		{"v_userz", []string{"v_user", "v_users"}},
		{"v_user_jsn", []string{"v_user_json"}},
		{"usres", []string{"users"}},
		{"xyzzy", nil},
		// Folded to mixedcase: the stored name differs only in case.
		{"MixedCase", []string{`'"Odd Schema"."MixedCase"'`}},
		{"v_ordr", []string{"app.v_order"}},
		{"public.v_usr", []string{"public.v_user"}},
		{"app.v_user", []string{"public.v_user"}},
		{"app.v_ordr", []string{"app.v_order"}},
		// The wrong schema: the name itself, in the schema that has it.
		{"nosuch.v_user", []string{"public.v_user"}},
		{"pubic.users", []string{"public.users"}},
	} {
		t.Run(tc.typed, func(t *testing.T) {
			r, err := query.ParseRelation(tc.typed)
			if err != nil {
				t.Fatal(err)
			}
			if got := nearRelations(r, rels); !slices.Equal(got, tc.want) {
				t.Errorf("nearRelations(%s) = %q, want %q", tc.typed, got, tc.want)
			}
		})
	}
}

// TestMissingRelationOrColumn: the lookup is for the server's word about
// RELATION and --column, not about a relation or column a --where names.
func TestMissingRelationOrColumn(t *testing.T) {
	o := func(relation, column string) *streamOptions {
		r, err := query.ParseRelation(relation)
		if err != nil {
			t.Fatal(err)
		}
		return &streamOptions{spec: query.Spec{Relation: r, Column: column}}
	}
	pg := func(code, msg string) error { return &wire.QueryError{Err: &wire.PgError{Code: code, Message: msg}} }
	for _, tc := range []struct {
		name            string
		o               *streamOptions
		err             error
		relation, colum bool
	}{
		{"relation", o("v_usr", "data"), pg("42P01", `relation "v_usr" does not exist`), true, false},
		{"folded relation", o("V_Usr", "data"), pg("42P01", `relation "v_usr" does not exist`), true, false},
		{"schema.relation", o("app.v_usr", "data"), pg("42P01", `relation "app.v_usr" does not exist`), true, false},
		{"a relation of --where", o("v_user", "data"), pg("42P01", `relation "nosuch" does not exist`), false, false},
		{"column", o("v_two_cols", "data"), pg("42703", `column "data" does not exist`), false, true},
		{"a column of --where", o("v_user", "data"), pg("42703", `column "id" does not exist`), false, false},
		{"column type", o("v_int", "data"), &wire.QueryError{Err: &wire.ColumnError{Columns: []string{`"data" of type integer`}}}, false, true},
		{"another error", o("v_user", "data"), pg("42501", "permission denied for view v_user"), false, false},
		{"no server error", o("v_user", "data"), errors.New("x"), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.o.missingRelation(tc.err); got != tc.relation {
				t.Errorf("missingRelation = %t, want %t", got, tc.relation)
			}
			if got := tc.o.missingColumn(tc.err); got != tc.colum {
				t.Errorf("missingColumn = %t, want %t", got, tc.colum)
			}
		})
	}
}

// TestShellWord: a word the shell takes back as it is, else single-quoted.
func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"v_user":                   "v_user",
		"public.v_user":            "public.v_user",
		`"MyView"`:                 `'"MyView"'`,
		`"Odd Schema"."MixedCase"`: `'"Odd Schema"."MixedCase"'`,
		`"it's"`:                   `'"it'\''s"'`,
		"naïve":                    "naïve",
		"a$b":                      "'a$b'",
		"":                         "''",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJoinList: one, two and three words.
func TestJoinList(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a or b"},
		{[]string{"a", "b", "c"}, "a, b or c"},
	} {
		if got := orList(tc.words); got != tc.want {
			t.Errorf("orList(%q) = %q, want %q", tc.words, got, tc.want)
		}
	}
}

// TestCatalogHintOnSession: on the session a stream failed on, the
// catalog's hint is added to the server's error; on a session that is
// gone, the lookup fails and the error is returned as it was.
func TestCatalogHintOnSession(t *testing.T) {
	srv := pgtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := trustConfig(t, srv)
	o := &streamOptions{spec: query.Spec{Relation: query.Relation{Name: "v_usr"}, Column: "data", Limit: -1}}
	st, err := query.Build(o.spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []bool{false, true} {
		conn, err := wire.Connect(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, serr := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: st.SQL}, discardSink{}, wire.Observer{})
		if !o.missingRelation(serr) {
			t.Fatalf("stream of v_usr: %v, want 42P01 naming it", serr)
		}
		if gone {
			_ = conn.Close()
		}
		got := o.withCatalogHint(ctx, conn, serr)
		var he *hintedError
		switch {
		case gone && got != serr:
			t.Errorf("session gone: %v, want the stream's error as it was", got)
		case !gone && (!errors.As(got, &he) || !strings.HasPrefix(he.hint, "did you mean v_user") || !errors.Is(got, serr)):
			t.Errorf("on the session: %v (%+v), want the stream's error with a hint naming v_user", got, he)
		}
		_ = conn.Close()
	}
}

// discardSink takes rows and keeps none.
type discardSink struct{}

func (discardSink) Begin(wire.Column) error   { return nil }
func (discardSink) WriteValue(v []byte) error { return nil }
func (discardSink) Flush() error              { return nil }
