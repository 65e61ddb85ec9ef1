package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// hbaRules are the authentication methods of each role, in pg_hba.conf
// order: over the Unix socket, over TCP with TLS (hostssl) and over TCP
// without it (hostnossl). Where the two TCP methods agree, one "host" rule
// covers both. The "all" rule must come last.
var hbaRules = []struct{ role, local, ssl, noSSL string }{
	{Superuser, "trust", "trust", "trust"},
	{RoleTrust, "trust", "trust", "trust"},
	{RolePassword, "password", "password", "password"},
	{RoleMD5, "md5", "md5", "md5"},
	{RoleSCRAM, "scram-sha-256", "scram-sha-256", "scram-sha-256"},
	// A socket is never TLS.
	{RoleTLSOnly, "reject", "scram-sha-256", "reject"},
	{RoleNoTLS, "scram-sha-256", "reject", "scram-sha-256"},
	{RoleCert, "reject", "cert", "reject"},
	{"all", "scram-sha-256", "scram-sha-256", "scram-sha-256"},
}

// writeHBA replaces initdb's pg_hba.conf with the rules of hbaRules for
// the socket and each loopback address. The hostssl rules are written
// whether or not the cluster uses TLS: a server with ssl=off accepts them
// (logging that they cannot match), so a kept cluster may be started with
// or without Options.TLS.
func (s *Server) writeHBA() error {
	path := filepath.Join(s.DataDir, "pg_hba.conf")
	if err := os.WriteFile(path, []byte(hbaText(s.HasIPv6)), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// hbaText is the pg_hba.conf of hbaRules, for the socket and 127.0.0.1,
// and ::1 when ipv6.
func hbaText(ipv6 bool) string {
	addrs := []string{"127.0.0.1/32"}
	if ipv6 {
		addrs = append(addrs, "::1/128")
	}
	var b strings.Builder
	b.WriteString("# Written by pgtest: loopback and socket only.\n")
	line := func(typ, role, addr, method string) {
		fmt.Fprintf(&b, "%-9s all %-16s %-13s %s\n", typ, role, addr, method)
	}
	for _, r := range hbaRules {
		line("local", r.role, "", r.local)
	}
	for _, addr := range addrs {
		for _, r := range hbaRules {
			if r.ssl == r.noSSL {
				line("host", r.role, addr, r.ssl)
				continue
			}
			line("hostssl", r.role, addr, r.ssl)
			line("hostnossl", r.role, addr, r.noSSL)
		}
	}
	return b.String()
}
