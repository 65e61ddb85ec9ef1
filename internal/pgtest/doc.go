// Package pgtest starts a throwaway PostgreSQL cluster for tests,
// benchmarks and the demo and sandbox programs (demo/, sandbox/).
//
// A cluster lives in a fresh temporary directory (or, with Options.Dir, a
// kept one that later runs start again): initdb creates it with a
// trusted bootstrap superuser (Superuser), the server listens only on
// loopback addresses and on a Unix socket inside that directory, and Start
// creates the database Database, one login role per authentication method
// (RoleTrust, RolePassword, RoleMD5, RoleSCRAM) and the fixture relations
// of fixtures.sql. Durability is switched off for speed: even a kept
// cluster holds only data that can be made again.
//
// With Options.TLS the server also accepts TLS (ssl=on). On every start,
// a kept cluster's restart included, Start generates with crypto/x509 a
// new ECDSA P-256 CA, a server certificate that CA signs for the host
// name "localhost" only (TLSServerName: sslmode=verify-full succeeds with
// host=localhost and fails with host=127.0.0.1), a client certificate for
// RoleCert, and, for negative tests, an unrelated CA and a client
// certificate it signs; Server.TLS gives their paths. The server trusts
// the CA for client certificates.
//
// Every cluster also has three roles whose pg_hba.conf rules depend on
// TLS: RoleTLSOnly (scram-sha-256, only over TCP with TLS), RoleNoTLS
// (scram-sha-256, only over TCP without TLS or over the socket, so that
// sslmode=prefer has to fall back to a plain connection) and RoleCert
// (client certificate authentication, only over TCP with TLS). On a
// cluster without TLS, RoleTLSOnly and RoleCert cannot log in.
//
// Test binaries share one lazily started cluster, and another with TLS:
// call Require or RequireTLS from tests, Shared or SharedTLS from
// testscript setup code, and wrap TestMain with RunMain so the clusters
// are stopped and removed when the tests end or are interrupted. Tests of
// programs that start a cluster of their own call RequireBinaries.
//
// When the tests run as root, initdb and the server run as the "postgres"
// user (or "nobody"), because PostgreSQL refuses to run as root.
//
// This package must never be imported by production code paths; only
// tests, benchmarks and the demo, sandbox and benchmark programs may use
// it.
package pgtest
