// Package filter runs a jq expression (gojq) over JSON rows and writes its
// outputs as lines, in row order and in bounded memory.
//
// Compile (filter.go) makes a Filter once: the expression's nesting is
// bounded (depth.go), a compile error points into the text (locate.go),
// and the expression is analyzed for the parts of a row it reads
// (demand.go) and for whether its time is bounded by the row's size
// (bounded.go: such an expression runs without gojq's per-step context
// check). A Pipeline (pipeline.go) takes the rows in batches (batch.go),
// filters them on workers or on the caller's goroutine (worker.go,
// level.go; how many workers is chosen as the rows flow, tune.go), writes
// their output in row order (collect.go) and ends on Close, Abort or the
// first error (stop.go); with policy Skip, the rows it drops are told
// grouped by kind of failure (skipreport.go), their messages' values
// elided (errkind.go). Each row is decoded only as far as the expression
// reads it, numbers keeping the text the server sent, into values built in
// place that are valid until the next row (decode*.go, box.go); outputs
// are written as jq writes them (encode.go). The error types are in
// errors.go.
//
// It knows nothing of PostgreSQL or of files: rows arrive as JSON text (nil
// for SQL NULL) and lines leave through a LineWriter.
package filter
