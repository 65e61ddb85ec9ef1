package query

import (
	"errors"
	"strconv"
	"strings"
)

// Resume makes a statement resumable (--resume). Its key is the ORDER BY
// list. Before the column the statement selects each key item's text;
// with Check, then whether the row's key comes after the previous row's
// in the server's own order, "true" or "false", so that a key that is
// not unique is caught by the server (for keys whose text the client
// cannot compare: see KeyCheck); the first row has no row before it, and
// has instead the transaction's start time (now(), as text). With After,
// it keeps only the rows after a given key.
type Resume struct {
	// After is the number of the first of the parameters holding the key
	// of the last row already written, one per key item, in the server's
	// text form; 0 when there is none.
	After int
	// Types are the key items' SQL types, which those parameters are cast
	// to, as the server names them (format_type); needed with After.
	Types []string
	// Check has the server compare each row's key with the one before.
	Check bool
}

// resumeWindow names the window the key is compared over.
const resumeWindow = "fraise_order"

// ResumeKeys returns the key items of a resumable statement's ORDER BY
// list, checking that it has one and that every item sorts the same way
// (the key is then compared as one row value).
func ResumeKeys(orderBy string) ([]OrderKey, error) {
	if strings.TrimSpace(orderBy) == "" {
		return nil, &FragmentError{Part: PartOrderBy, Reason: "--resume needs --order-by: the key the export continues after"}
	}
	keys, err := OrderKeys(orderBy)
	if err != nil {
		return nil, &FragmentError{Part: PartOrderBy, Reason: "--resume cannot continue after a key sorted with USING"}
	}
	for _, k := range keys {
		if k.Expr == "" {
			return nil, &FragmentError{Part: PartOrderBy, Reason: "an ORDER BY item is empty"}
		}
		if k.Desc != keys[0].Desc {
			return nil, &FragmentError{Part: PartOrderBy, Reason: "--resume needs every ORDER BY item sorted the same way (all ASC or all DESC), to compare the key as one row value"}
		}
	}
	return keys, nil
}

// resumeKeys checks spec's resumable parts: its key, and the types of the
// key to continue after.
func resumeKeys(spec Spec) ([]OrderKey, error) {
	if err := checkFragment(PartOrderBy, spec.OrderBy); err != nil {
		return nil, err
	}
	keys, err := ResumeKeys(spec.OrderBy)
	if err != nil {
		return nil, err
	}
	if r := spec.Resume; r.After > 0 && len(r.Types) != len(keys) {
		return nil, errors.New("query: the key to resume after has " + strconv.Itoa(len(r.Types)) + " types for " + strconv.Itoa(len(keys)) + " key items")
	}
	return keys, nil
}

// resumeColumns writes the key's texts and, with check, the order check
// before the column.
func (b *builder) resumeColumns(keys []OrderKey, check bool) {
	cmp := " > "
	if keys[0].Desc {
		cmp = " < "
	}
	// Named so that no ORDER BY item names them: ORDER BY takes a plain
	// name for an output column first, and "i"::text is named i.
	for i, k := range keys {
		b.text("(\n")
		b.fragment(PartOrderBy, k.Expr)
		b.text("\n)::text AS " + QuoteIdent("fraise:key"+strconv.Itoa(i+1)) + ",\n")
	}
	if !check {
		return
	}
	b.text("COALESCE((")
	b.keyRow(keys, "")
	b.text(cmp)
	b.keyRow(keys, " OVER "+resumeWindow)
	b.text(")::text, pg_catalog.now()::text) AS " + QuoteIdent("fraise:after") + ",\n")
}

// keyRow writes the key as a row value; with over, each item's value on
// the previous row (lag).
func (b *builder) keyRow(keys []OrderKey, over string) {
	b.text("(")
	for i, k := range keys {
		if i > 0 {
			b.text(", ")
		}
		if over != "" {
			b.text("lag(")
		}
		b.text("(\n")
		b.fragment(PartOrderBy, k.Expr)
		b.text("\n)")
		if over != "" {
			b.text(")" + over)
		}
	}
	b.text(")")
}

// resumeAfter writes the condition that keeps the rows after the key in
// parameters from r.After on (in fromWhere: the extent and the estimate
// of a parallel run's ranges count only the rows still to come).
func (b *builder) resumeAfter(keys []OrderKey, r Resume, more bool) {
	if more {
		b.text("\nAND ")
	} else {
		b.text("\nWHERE ")
	}
	cmp := " > "
	if keys[0].Desc {
		cmp = " < "
	}
	b.text("(")
	b.keyRow(keys, "")
	b.text(cmp + "(")
	for i := range keys {
		if i > 0 {
			b.text(", ")
		}
		b.text("$" + strconv.Itoa(r.After+i) + "::" + r.Types[i])
	}
	b.text("))")
}

// KeySettings are the settings a key's text can depend on (the date and
// time styles, the time zone, the digits of floats, the currency format):
// BuildKeyTypes gives their values as one JSON object.
var KeySettings = []string{"DateStyle", "IntervalStyle", "TimeZone", "extra_float_digits", "lc_monetary"}

// keySettingsSQL is the arguments of json_build_object for KeySettings.
var keySettingsSQL = func() string {
	var parts []string
	for _, k := range KeySettings {
		parts = append(parts, "'"+k+"', pg_catalog.current_setting('"+k+"')")
	}
	return strings.Join(parts, ", ")
}()

// BuildKeyTypes renders the statement that names the types of a
// resumable statement's key items, as the server names them (its one row
// holds one type per item, whatever rows the relation has): the types the
// key to continue after is cast to (Resume.Types). After them come the
// server's time (now(), as text), whether every collation of the
// database is deterministic (equal strings are then equal bytes: bool,
// "t" or "f"), and the KeySettings, as a JSON object. Its WHERE is spec's,
// so that it takes the user's parameters (Range and Resume are not used).
//
// With nulls, a last column says whether a row of spec's has a NULL key
// item ("t" or "f"): a resumed run's keyset never selects such a row,
// which the first run would have refused.
func BuildKeyTypes(spec Spec, nulls bool) (Statement, error) {
	keys, err := resumeKeys(Spec{OrderBy: spec.OrderBy, Resume: &Resume{}})
	if err != nil {
		return Statement{}, err
	}
	var b builder
	b.text("SELECT ")
	for i := range keys {
		if i > 0 {
			b.text(", ")
		}
		// format_type without a modifier: "bpchar", not "character",
		// which a cast reads as char(1).
		b.text("pg_catalog.format_type(pg_catalog.pg_typeof(k.k" + strconv.Itoa(i+1) + "), -1)")
	}
	b.text(", pg_catalog.now()::text, NOT EXISTS (SELECT 1 FROM pg_catalog.pg_collation WHERE NOT collisdeterministic),\n" +
		"pg_catalog.json_build_object(" + keySettingsSQL + ")::text")
	if nulls {
		if err := b.nullKeys(spec, keys); err != nil {
			return Statement{}, err
		}
	}
	b.text("\nFROM (VALUES (0)) AS v(x) LEFT JOIN LATERAL (SELECT ")
	for i, k := range keys {
		if i > 0 {
			b.text(", ")
		}
		b.text("(\n")
		b.fragment(PartOrderBy, k.Expr)
		b.text("\n) AS k" + strconv.Itoa(i+1))
	}
	spec.Range, spec.Resume = nil, nil
	if err := b.fromWhere(spec); err != nil {
		return Statement{}, err
	}
	b.text("\nLIMIT 0) AS k ON true")
	return Statement{SQL: b.sb.String(), Fragments: b.frags}, nil
}

// nullKeys writes whether a row of spec's has a NULL key item.
func (b *builder) nullKeys(spec Spec, keys []OrderKey) error {
	b.text(",\nEXISTS (SELECT 1")
	spec.Range, spec.Resume = nil, nil
	if err := b.fromWhere(spec); err != nil {
		return err
	}
	if len(spec.Where) > 0 {
		b.text("\nAND (")
	} else {
		b.text("\nWHERE (")
	}
	for i, k := range keys {
		if i > 0 {
			b.text(" OR ")
		}
		b.text("(\n")
		b.fragment(PartOrderBy, k.Expr)
		b.text("\n) IS NULL")
	}
	b.text("))")
	return nil
}
