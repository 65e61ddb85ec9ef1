package query

import (
	"errors"
	"testing"
)

func TestLeadingOrderKey(t *testing.T) {
	tests := []struct {
		in   string
		want OrderKey
		err  error
	}{
		{"id", OrderKey{Expr: "id", Alone: true}, nil},
		{"  id  ", OrderKey{Expr: "id", Alone: true}, nil},
		{"id DESC", OrderKey{Expr: "id", Desc: true, NullsFirst: true, Alone: true}, nil},
		{"id desc nulls last", OrderKey{Expr: "id", Desc: true, Alone: true}, nil},
		{"id ASC NULLS FIRST", OrderKey{Expr: "id", NullsFirst: true, Alone: true}, nil},
		{"id, name", OrderKey{Expr: "id"}, nil},
		{"data->>'name'", OrderKey{Expr: "data->>'name'", Alone: true}, nil},
		{"data->>'a,b' DESC", OrderKey{Expr: "data->>'a,b'", Desc: true, NullsFirst: true, Alone: true}, nil},
		{"coalesce(a, b), c", OrderKey{Expr: "coalesce(a, b)"}, nil},
		{`"Odd, Name" desc`, OrderKey{Expr: `"Odd, Name"`, Desc: true, NullsFirst: true, Alone: true}, nil},
		{"(data->>'id')::int -- trailing, comment", OrderKey{Expr: "(data->>'id')::int", Alone: true}, nil},
		{"x /* a, b */ DESC", OrderKey{Expr: "x", Desc: true, NullsFirst: true, Alone: true}, nil},
		{"$q$a,b$q$ || x", OrderKey{Expr: "$q$a,b$q$ || x", Alone: true}, nil},
		{"E'it\\'s,' || x, y", OrderKey{Expr: "E'it\\'s,' || x"}, nil},
		{"arr[1], y", OrderKey{Expr: "arr[1]"}, nil},
		{"desc", OrderKey{Expr: "", Desc: true, NullsFirst: true, Alone: true}, nil},
		{"x USING <", OrderKey{}, ErrOrderUsing},
	}
	for _, tt := range tests {
		got, err := LeadingOrderKey(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("LeadingOrderKey(%q) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("LeadingOrderKey(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestLastItem(t *testing.T) {
	tests := []struct{ in, head, item string }{
		{"", "", ""},
		{"id", "", "id"},
		{"  i", "  ", "i"},
		{"id,", "id,", ""},
		{"id, ", "id, ", ""},
		{"id, na", "id, ", "na"},
		{"id DESC,na", "id DESC,", "na"},
		{"a, b DESC, c", "a, b DESC, ", "c"},
		{"coalesce(a, b", "", "coalesce(a, b"},
		{"coalesce(a, b), c", "coalesce(a, b), ", "c"},
		{`"Odd, Na`, "", `"Odd, Na`},
		{`id, "Odd, Na`, "id, ", `"Odd, Na`},
		{"data->>'a,b', x", "data->>'a,b', ", "x"},
		{"x /* a, b */, y", "x /* a, b */, ", "y"},
		{"x -- a, b", "", "x -- a, b"},
		{"$q$a,b$q$, y", "$q$a,b$q$, ", "y"},
		{"id,\tna", "id,\t", "na"},
		{"a b", "", "a b"},
	}
	for _, tt := range tests {
		head, item := LastItem(tt.in)
		if head != tt.head || item != tt.item {
			t.Errorf("LastItem(%q) = %q, %q, want %q, %q", tt.in, head, item, tt.head, tt.item)
		}
	}
}

func TestSameExpr(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"id", "ID", true},
		{"id", " id ", true},
		{"(data->>'id')::int", "(data->>'id')::int", true},
		{"lower(name)", "LOWER(name)", false}, // bracketed: compared exactly
		{"a  +  b", "a + b", true},
		{`"Id"`, `"id"`, false},
		{"a", "b", false},
		{"a b", "a", false},
	}
	for _, tt := range tests {
		if got := SameExpr(tt.a, tt.b); got != tt.want {
			t.Errorf("SameExpr(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestBuildRange(t *testing.T) {
	rel := Relation{Name: "t"}
	tests := []struct {
		name  string
		where []string
		r     Range
		want  string
	}{
		{"both", nil, Range{Key: "id", Lo: true, Hi: true, Param: 1},
			"SELECT \"data\"\nFROM \"t\"\nWHERE (\n(\nid\n) >= $1 AND (\nid\n) < $2\n)"},
		{"low only after where", []string{"x > $1"}, Range{Key: "id", Lo: true, Param: 2},
			"SELECT \"data\"\nFROM \"t\"\nWHERE (\nx > $1\n) AND (\n(\nid\n) >= $2\n)"},
		{"high only", nil, Range{Key: "id", Hi: true, Param: 3},
			"SELECT \"data\"\nFROM \"t\"\nWHERE (\n(\nid\n) < $3\n)"},
		{"null", nil, Range{Key: "id", Null: true},
			"SELECT \"data\"\nFROM \"t\"\nWHERE (\n(\nid\n) IS NULL\n)"},
		{"everything not null", nil, Range{Key: "id"},
			"SELECT \"data\"\nFROM \"t\"\nWHERE (\n(\nid\n) IS NOT NULL\n)"},
	}
	for _, tt := range tests {
		r := tt.r
		st, err := Build(Spec{Relation: rel, Column: "data", Where: tt.where, Limit: -1, Range: &r})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if st.SQL != tt.want {
			t.Errorf("%s: SQL\n%s\nwant\n%s", tt.name, st.SQL, tt.want)
		}
	}
	if _, err := Build(Spec{Relation: rel, Column: "data", Limit: -1, Range: &Range{Key: " "}}); err == nil {
		t.Error("an empty split key was accepted")
	}
}
