// Package testscripts runs fraise's command-line scripts (testdata/*.txtar)
// with testscript, against the throwaway PostgreSQL of internal/pgtest.
//
// Scripts that need a server carry the [pg] condition. Without PostgreSQL
// binaries those scripts skip, saying how to install them, except when
// CI=true, where that is a failure.
package testscripts
