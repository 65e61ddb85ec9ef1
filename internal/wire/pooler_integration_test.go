package wire_test

// What PgBouncer in front of the test server (pgtest.PoolerEnv) answers
// differently from PostgreSQL by design, for the integration tests that
// connect through it. Each difference is named where a test asserts it.

import (
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// passwordRefusal is the SQLSTATE of a wrong password's refusal and the
// start of its message. PostgreSQL refuses with 28P01 `password
// authentication failed for user "role"`. PgBouncer checks the password
// itself (auth_type hba, from its userlist) and refuses with 08P01, a
// protocol violation: "SASL authentication failed" after a SCRAM exchange,
// "password authentication failed" after md5 or a cleartext password.
func passwordRefusal(srv *pgtest.Server, role string, scram bool) (code, message string) {
	switch {
	case srv.Pooler == nil:
		return "28P01", `password authentication failed for user "` + role + `"`
	case scram:
		return "08P01", "SASL authentication failed"
	}
	return "08P01", "password authentication failed"
}

// unknownDatabase is the SQLSTATE of the refusal of a database that does
// not exist: 3D000 from PostgreSQL. PgBouncer (its "*" entry accepts any
// name) passes the server's message on with 08P01.
func unknownDatabase(srv *pgtest.Server) string {
	if srv.Pooler != nil {
		return "08P01"
	}
	return "3D000"
}

// sessionTLS reports whether conn's session uses TLS. Directly, the
// server says so (pg_stat_ssl). Behind a pooler, pg_stat_ssl describes the
// pooler's own link to the server, whatever the client's: the client's
// side of the connection says.
func sessionTLS(t *testing.T, srv *pgtest.Server, conn *wire.Conn) bool {
	t.Helper()
	if srv.Pooler != nil {
		_, ok := conn.TLS()
		return ok
	}
	return taValue(t, conn, taSSLInUse) == "true"
}
