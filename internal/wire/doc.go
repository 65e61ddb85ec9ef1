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
// mebibyte or more without a copy, to a sink that keeps it: ValueKeeper),
// telling an Observer the planner's estimate first when it asks. For
// fraise's own catalog lookups (ping, views) it runs fixed statements with
// text results in the same kind of transaction (QueryText, Ping). A
// failed statement is a *QueryError naming its QueryStep.
//
// Where things are. Settings: config*.go, with the parsers of pgconf.
// Connecting: connect.go (hosts, addresses, encryption methods), tls*.go,
// startup.go and auth.go (with scram), target.go. Every answer of the
// server is read by one loop, respond (respond.go), up to the
// ReadyForQuery that ends it; the request it answers — the startup
// (startup.go), a simple Query (query.go), QueryText's statement
// (catalog.go), a stream's statement (stream_answers.go) — is an exchange
// that handles only the messages that are its own. Every statement runs in
// the same read-only transaction, its BEGIN and ROLLBACK written and read
// one way (transaction.go); a stream sends them with the statement in one
// round trip (stream.go). Framing is reader.go, DataRow splitting
// datarow.go; how a stream stops early — a run's Stop, shared by its
// sessions (stop.go), and one statement's life under it, the type that
// holds its state and moves it, with its diagram (lifecycle.go) — and
// cancel.go; the
// error types, errors.go.
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
