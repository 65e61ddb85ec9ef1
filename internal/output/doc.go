// Package output writes the rows' JSON texts out, whole lines only, to
// standard output or to a file.
//
// An NDJSON writer (ndjson.go) buffers complete values and writes them as
// lines, or as one JSON array (Options.Array); with OneLine it replaces the
// raw line breaks and tabs between a json value's tokens with spaces.
// NewAsyncNDJSON hands full buffers to a goroutine of its own (async.go),
// so that the network reader goes back to reading while one is written and
// an interrupted run is never stuck in a write. The writer's destination
// is a Dest (compress.go): standard output or a File (file.go), compressed
// with gzip or zstd when asked. A File is a temporary file renamed over its
// name on Commit and removed on Abort, so the name never holds a partial
// file. WatchReader (watch_unix.go) notices that the reader of standard
// output left even before anything is written. A failed write is a
// WriteError.
//
// Callers hand it one complete JSON text per row; it never decodes it. It
// knows nothing of PostgreSQL, connections or jq.
package output
