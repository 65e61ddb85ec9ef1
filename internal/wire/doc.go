// Package wire is fraise's PostgreSQL connection layer, built on the
// message codec of github.com/jackc/pgx/v5/pgproto3.
//
// It turns libpq-style settings (connection strings, PG* environment
// variables, service files, the password file) into a Config with libpq's
// precedence and validation; connects over TCP or a Unix socket, to each
// host of a list in turn (target_session_attrs, load_balance_hosts);
// negotiates TLS with libpq's six sslmodes, certificate rules and direct
// negotiation; authenticates (trust, cleartext, MD5, SCRAM-SHA-256 and
// SCRAM-SHA-256-PLUS with channel binding) under require_auth and
// channel_binding; and runs one read-only statement whose single json/jsonb
// column it hands, row by row and undecoded, to a RowSink (a value of a
// mebibyte or more without a copy, to a sink that keeps it: ValueKeeper).
// For fraise's own catalog lookups (ping, views) it runs fixed statements
// with text results in the same kind of transaction (QueryText, Ping).
//
// It knows nothing of jq, files or command-line flags, and it never prints:
// warnings and server notices go to callbacks in Config.
//
// References: PostgreSQL documentation, chapter 55 "Frontend/Backend
// Protocol" and chapter 34 "libpq" (34.1 Database Connection Control
// Functions, 34.15 Environment Variables, 34.16 The Password File, 34.17
// The Connection Service File, 34.19 SSL Support), and libpq's fe-connect.c,
// fe-auth.c and fe-secure-openssl.c where the documentation is silent.
package wire
