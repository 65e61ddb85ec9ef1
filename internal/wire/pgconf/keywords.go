// The keywords libpq accepts, from the libpq documentation, "Parameter Key
// Words" (§34.1.2), PostgreSQL 17/18, and how a value is stored under one
// (fe-connect.c, conninfo_storeval).

package pgconf

import (
	"slices"
	"strings"
)

// keywords lists every keyword libpq 17/18 accepts, in the documentation's
// order. Which of them a program supports is the caller's decision.
var keywords = [...]string{
	"host", "hostaddr", "port", "dbname", "user", "password", "passfile",
	"require_auth", "channel_binding", "connect_timeout", "client_encoding",
	"options", "application_name", "fallback_application_name",
	"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
	"tcp_user_timeout", "replication", "gssencmode", "sslmode",
	"sslnegotiation", "requiressl", "sslcompression", "sslcert", "sslkey",
	"sslkeylogfile", "sslpassword", "sslcertmode", "sslrootcert", "sslcrl",
	"sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version",
	"ssl_max_protocol_version", "min_protocol_version", "max_protocol_version",
	"krbsrvname", "gsslib", "gssdelegation", "service",
	"target_session_attrs", "load_balance_hosts", "scram_client_key",
	"scram_server_key", "oauth_issuer", "oauth_client_id",
	"oauth_client_secret", "oauth_scope",
}

var known = func() map[string]bool {
	m := make(map[string]bool, len(keywords))
	for _, k := range keywords {
		m[k] = true
	}
	return m
}()

// secrets are the keywords whose values are credentials: libpq's "*"
// (password) display class plus the SCRAM keys and the OAuth client secret.
// Their values never appear in an error and are masked by Redact.
var secrets = map[string]bool{
	"password":            true,
	"sslpassword":         true,
	"oauth_client_secret": true,
	"scram_client_key":    true,
	"scram_server_key":    true,
}

// mask replaces a secret value in rendered output.
const mask = "xxxxx"

// Known reports whether keyword is one of libpq's connection keywords
// (PostgreSQL 17/18). It says nothing about whether the caller supports it.
// The match is exact and case-sensitive, as in libpq.
func Known(keyword string) bool { return known[keyword] }

// Keywords returns every keyword [Known] accepts, in the order of the libpq
// documentation. The slice is a fresh copy.
func Keywords() []string { return slices.Clone(keywords[:]) }

func isSecret(keyword string) bool { return secrets[keyword] }

// store records value under keyword the way conninfo_storeval does: the
// obsolete requiressl becomes sslmode ("require" when the value starts with
// "1", "prefer" otherwise), and an unknown keyword is refused. A keyword
// given again replaces the earlier value.
func (s Settings) store(keyword, value string) bool {
	if keyword == "requiressl" {
		keyword = "sslmode"
		if strings.HasPrefix(value, "1") {
			value = "require"
		} else {
			value = "prefer"
		}
	}
	if !known[keyword] {
		return false
	}
	s[keyword] = value
	return true
}
