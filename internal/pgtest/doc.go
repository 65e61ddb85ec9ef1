// Package pgtest starts a throwaway PostgreSQL cluster for tests,
// benchmarks and the demo program.
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
// Test binaries share one lazily started cluster: call Require from tests,
// Shared from testscript setup code, and wrap TestMain with RunMain so the
// cluster is stopped and removed when the tests end or are interrupted.
//
// When the tests run as root, initdb and the server run as the "postgres"
// user (or "nobody"), because PostgreSQL refuses to run as root.
//
// This package must never be imported by production code paths; only
// tests, benchmarks and the demo and benchmark programs may use it.
package pgtest
