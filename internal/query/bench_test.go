package query_test

import (
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

// BenchmarkBuild measures rendering the statement for a typical stream:
// a schema-qualified relation that needs quoting, two --where fragments,
// an --order-by, a limit and an offset.
func BenchmarkBuild(b *testing.B) {
	spec := query.Spec{
		Relation: query.Relation{Schema: "Odd Schema", Name: "MixedCase"},
		Column:   "data",
		Where:    []string{"data->>'active' = 'true'", "(data->>'age')::int >= 18 -- adults"},
		OrderBy:  "data->>'name', data->>'id'",
		Limit:    1000,
		Offset:   200,
	}
	const want = "SELECT \"data\"\nFROM \"Odd Schema\".\"MixedCase\"\n" +
		"WHERE (\ndata->>'active' = 'true'\n) AND (\n(data->>'age')::int >= 18 -- adults\n)\n" +
		"ORDER BY\ndata->>'name', data->>'id'\n\nLIMIT 1000\nOFFSET 200"
	b.ReportAllocs()
	for b.Loop() {
		st, err := query.Build(spec)
		if err != nil {
			b.Fatal(err)
		}
		if st.SQL != want || len(st.Fragments) != 3 {
			b.Fatalf("Build = %q with %d fragments, want %q with 3", st.SQL, len(st.Fragments), want)
		}
	}
}

// BenchmarkParseRelation measures parsing relation names of each kind:
// bare, schema-qualified, quoted with mixed case and spaces, quoted with
// an escaped double quote, and unquoted upper case that is folded.
func BenchmarkParseRelation(b *testing.B) {
	tests := []struct {
		name  string
		input string
		want  query.Relation
	}{
		{"bare", "v_user", query.Relation{Name: "v_user"}},
		{"qualified", "public.v_user", query.Relation{Schema: "public", Name: "v_user"}},
		{"quoted", `"Odd Schema"."MixedCase"`, query.Relation{Schema: "Odd Schema", Name: "MixedCase"}},
		{"escaped quote", `app."say ""hi"""`, query.Relation{Schema: "app", Name: `say "hi"`}},
		{"folded", "Sales.V_Orders_2024", query.Relation{Schema: "sales", Name: "v_orders_2024"}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rel, err := query.ParseRelation(tt.input)
				if err != nil {
					b.Fatal(err)
				}
				if rel != tt.want {
					b.Fatalf("ParseRelation(%q) = %+v, want %+v", tt.input, rel, tt.want)
				}
			}
		})
	}
}
