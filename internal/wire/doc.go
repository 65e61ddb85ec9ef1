// Package wire is fraise's PostgreSQL connection layer, built on the
// message codec of github.com/jackc/pgx/v5/pgproto3.
//
// It turns libpq-style settings (connection strings, PG* environment
// variables, the password file) into a Config, connects over TCP or a Unix
// socket, authenticates (trust, cleartext, MD5, SCRAM-SHA-256), and runs one
// read-only statement whose single json/jsonb column it hands, row by row and
// undecoded, to a RowSink.
//
// It knows nothing of jq, files or command-line flags, and it never prints:
// warnings and server notices go to callbacks in Config.
//
// References: PostgreSQL documentation, chapter 55 "Frontend/Backend
// Protocol" and chapter 34 "libpq" (34.1 Database Connection Control
// Functions, 34.15 Environment Variables, 34.16 The Password File).
package wire
