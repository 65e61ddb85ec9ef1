// Package output writes JSON values as lines: NDJSON, buffered, whole lines
// only.
//
// Callers hand it one complete JSON text per row; it never decodes it. It
// knows nothing of PostgreSQL, connections or jq.
package output
