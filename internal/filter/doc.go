// Package filter runs a jq expression (gojq) over JSON rows: compiling it
// with positions for errors, decoding each row so that numbers keep the text
// the server sent, encoding outputs as jq does, and a pipeline that spreads
// rows over worker goroutines while keeping output in row order with bounded
// memory.
//
// It knows nothing of PostgreSQL or of files: rows arrive as JSON text and
// lines leave through a LineWriter.
package filter
