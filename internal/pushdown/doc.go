// Package pushdown narrows, in SQL, what a server sends for a --jq
// expression, without changing one byte of its output: the client still
// runs the whole expression on every row it receives.
//
// Two narrowings are made. The projection replaces the row by a smaller
// value the expression cannot tell from it: in an object, only the keys
// the expression can observe (filter.Observed), absent keys staying
// absent, anything that is not an object sent whole. The selection adds,
// for each select(COND) at the head of the expression, a condition that
// is false only for rows on which COND certainly yields false or null and
// no error, and every select before it certainly yields true, so that
// every row jq would keep, or fail on, is still sent.
// Comparisons follow jq's order across types (null < false < true <
// numbers < strings < arrays < objects), strings compare by code point
// (COLLATE "C"), and numbers compare exactly where rounding to float64
// cannot turn the answer, with a margin where it could; anything not
// proven safe is not pushed.
//
// Analyze reads the expression once; Render writes the SQL for a jsonb
// column, every key and value bound as a parameter. Nothing is pushed on
// a json column, whose text the server would parse again for each
// operator (render.go, jsonNote), nor a projection where rows are small
// (MinProjectWidth).
package pushdown
