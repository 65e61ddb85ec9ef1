package filter

// JQCase is a case of the jq compatibility suite (jqCases, jqErrCases)
// for the external test package: an expression, its rows (SQLNull for a
// SQL NULL row), its variables and whether it writes raw strings.
type JQCase struct {
	Name string
	Expr string
	Rows []string
	Vars []JQVar
	Raw  bool
	// Err says the case comes from jqErrCases: jq fails on some rows.
	Err bool
}

// JQVar is a --arg (JSON false) or --argjson (JSON true) variable.
type JQVar struct {
	Name, Value string
	JSON        bool
}

// SQLNull stands for a SQL NULL row in JQCase.Rows.
const SQLNull = sqlNull

// JQCases returns every case of jqCases and of jqErrCases.
func JQCases() []JQCase {
	var out []JQCase
	for _, c := range jqCases {
		jc := JQCase{Name: c.name(), Expr: c.expr, Rows: c.input(), Raw: c.raw}
		for _, v := range c.vars {
			jc.Vars = append(jc.Vars, JQVar{Name: v.name, Value: v.value, JSON: v.json})
		}
		out = append(out, jc)
	}
	for _, c := range jqErrCases {
		out = append(out, JQCase{Name: "error " + c.name, Expr: c.expr, Rows: c.rows, Err: true})
	}
	return out
}
