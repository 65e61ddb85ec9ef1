// Package pgconf parses the text formats of libpq's connection contract:
// connection strings (key/value "conninfo" and postgres:// URIs), the
// password file (.pgpass) and the connection service file
// (pg_service.conf).
//
// It is a pure parser. It knows nothing of sockets or environment variables:
// it does not read PGHOST and friends, apply defaults, resolve host names or
// decide which keywords the caller supports. Given the file names,
// [FindService] searches service files in libpq's order.
// [Parse] turns a string into [Settings] keyed by libpq keyword,
// [ParsePassfile] and [ReadPassfile] load a password file, and
// [Passfile.Lookup] finds the password for a connection the way libpq's
// passwordFromFile does. [ReadFile] reads any file a setting names (these,
// certificates, fraise's config file): a regular file only, up to a cap.
//
// The reference is the libpq documentation — "Connection Strings" (§34.1.1),
// "Parameter Key Words" (§34.1.2), "The Password File" (§34.16) and "The
// Connection Service File" (§34.17) — and,
// where the documentation is silent, the behaviour of libpq's fe-connect.c
// (conninfo_parse, conninfo_uri_parse_options, conninfo_uri_decode,
// conninfo_storeval, passwordFromFile, parseServiceFile) as of PostgreSQL
// 17/18.
//
// Secrets: no error returned by this package contains the value of a
// password (or of any other secret keyword: sslpassword, oauth_client_secret,
// scram_client_key, scram_server_key). [Redact] and [Settings.String] render
// connection strings for logs with those values replaced by "xxxxx".
package pgconf
