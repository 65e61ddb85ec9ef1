package cli

import (
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
)

// printError writes err for humans: once, prefixed "fraise:", with the
// server's detail and hint, a caret under a --where/--order-by position, and
// advice on what to do next.
func printError(w io.Writer, err error, st *statementInfo) {
	var b strings.Builder
	b.WriteString("fraise: ")
	b.WriteString(headline(err))
	b.WriteString("\n")
	var jc *filter.CompileError
	if errors.As(err, &jc) && jc.Offset >= 0 {
		b.WriteString(caret("--jq", jc.Expr, utf8.RuneCountInString(jc.Expr[:jc.Offset]), "  "))
		b.WriteString("\n")
	}
	var fe *query.FragmentError
	if errors.As(err, &fe) && fe.Text != "" {
		b.WriteString(caret(partFlag(fe.Part), fe.Text, utf8.RuneCountInString(fe.Text[:fe.Offset]), "  "))
		b.WriteString("\n")
	}
	var pe *wire.PgError
	inFragment := false
	if errors.As(err, &pe) {
		if pe.Position > 0 && st != nil {
			if f, off, ok := st.stmt.Locate(pe.Position); ok {
				b.WriteString(fragmentCaret(f, off))
				b.WriteString("\n")
				inFragment = true
			}
		}
		if pe.Detail != "" {
			b.WriteString("DETAIL: " + pe.Detail + "\n")
		}
		if pe.Hint != "" {
			b.WriteString("HINT: " + pe.Hint + "\n")
		}
	}
	advice := adviceFor(err)
	if inFragment && pe.Code == "42703" {
		advice = fragmentColumnAdvice
	}
	if advice != "" {
		b.WriteString("hint: " + advice + "\n")
	}
	_, _ = io.WriteString(w, safeText(b.String()))
}

// headline is the error's first line: what failed and why, in the user's
// terms (the flag, not the part of the statement).
func headline(err error) string {
	var jc *filter.CompileError
	if errors.As(err, &jc) {
		return "invalid --jq expression: " + jc.Err.Error()
	}
	var qe *wire.QueryError
	if errors.As(err, &qe) {
		return "query failed: " + err.Error()
	}
	var fe *query.FragmentError
	if errors.As(err, &fe) {
		// The query package names the part of the statement; the user
		// gave it with a flag. Whatever wraps the error is kept.
		return strings.Replace(err.Error(), fe.Error(), partFlag(fe.Part)+": "+fe.Reason, 1)
	}
	return err.Error()
}

// fragmentColumnAdvice is 42703's advice when the column is in a --where or
// --order-by fragment.
const fragmentColumnAdvice = "the column is in your --where / --order-by; the relation's document is its json/jsonb column: reach fields through it, as (data->>'id')::int"
