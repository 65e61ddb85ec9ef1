// Package testscripts runs fraise's command-line scripts (testdata/*.txtar)
// with testscript, against the throwaway PostgreSQL of internal/pgtest.
//
// Scripts that need a server carry the [pg] condition. Without PostgreSQL
// binaries those scripts skip, saying how to install them, except when
// CI=true, where that is a failure. With PGTEST_POOLER set (make compat's
// pooler runs) they connect through PgBouncer; [pooler] marks what a
// pooler says differently, and pg-gone waits for a client's queries to be
// gone in the way that holds with and without one.
package testscripts
