// Where connection settings come from, and which wins (PostgreSQL
// documentation 34.15 "Environment Variables", 34.17 "The Connection
// Service File"): the PG* environment, then the service file, then the
// connection string, each keyword with its source named for messages.

package wire

import (
	"fmt"
	"strings"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// envKeywords maps libpq environment variables to connection keywords.
var envKeywords = []struct{ env, keyword string }{
	{"PGHOST", "host"},
	{"PGHOSTADDR", "hostaddr"},
	{"PGPORT", "port"},
	{"PGDATABASE", "dbname"},
	{"PGUSER", "user"},
	{"PGPASSWORD", "password"},
	{"PGPASSFILE", "passfile"},
	{"PGAPPNAME", "application_name"},
	{"PGCONNECT_TIMEOUT", "connect_timeout"},
	{"PGOPTIONS", "options"},
	{"PGSSLMODE", "sslmode"},
	{"PGSSLNEGOTIATION", "sslnegotiation"},
	{"PGSSLCOMPRESSION", "sslcompression"},
	{"PGSSLROOTCERT", "sslrootcert"},
	{"PGSSLCERT", "sslcert"},
	{"PGSSLKEY", "sslkey"},
	{"PGSSLCERTMODE", "sslcertmode"},
	{"PGSSLCRL", "sslcrl"},
	{"PGSSLCRLDIR", "sslcrldir"},
	{"PGSSLSNI", "sslsni"},
	{"PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"},
	{"PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"},
	{"PGREQUIREPEER", "requirepeer"},
	{"PGCHANNELBINDING", "channel_binding"},
	{"PGREQUIREAUTH", "require_auth"},
	{"PGTARGETSESSIONATTRS", "target_session_attrs"},
	{"PGLOADBALANCEHOSTS", "load_balance_hosts"},
	{"PGGSSENCMODE", "gssencmode"},
	{"PGKRBSRVNAME", "krbsrvname"},
	{"PGGSSLIB", "gsslib"},
	{"PGGSSDELEGATION", "gssdelegation"},
	{"PGCLIENTENCODING", "client_encoding"},
	{"PGMINPROTOCOLVERSION", "min_protocol_version"},
	{"PGMAXPROTOCOLVERSION", "max_protocol_version"},
}

// settings are the resolved connection keywords with where each came
// from, for messages.
type settings struct {
	val    map[string]string
	source map[string]string
}

func (s settings) get(k string) string { return s.val[k] }

func (s settings) has(k string) bool { _, ok := s.val[k]; return ok }

// from names where keyword k was set, for messages.
func (s settings) from(k string) string {
	if src := s.source[k]; src != "" {
		return src
	}
	return "the default"
}

// resolveSettings gathers the connection keywords, each with where it came
// from, with libpq's precedence: the environment, then the service file,
// then the connection string. It returns the service's name too.
func resolveSettings(connString string, env Environment) (settings, string, error) {
	given, err := pgconf.Parse(connString)
	if err != nil {
		return settings{}, "", &ConfigError{Err: err}
	}
	st := envSettings(env)
	// A service set to "" is a service named "", as in libpq: an error.
	service, hasService := given["service"]
	serviceFrom := "the connection string"
	if !hasService {
		service, hasService = env.LookupEnv("PGSERVICE")
		serviceFrom = "PGSERVICE"
	}
	if hasService {
		svc, file, err := pgconf.FindService(service, serviceFiles(env))
		if err != nil {
			return settings{}, "", &ConfigError{Keyword: "service", Err: fmt.Errorf("%w (service %q from %s)", err, service, serviceFrom)}
		}
		for k, v := range svc {
			st.val[k], st.source[k] = v, fmt.Sprintf("service %q in %s", service, file)
		}
	}
	for k, v := range given {
		st.val[k], st.source[k] = v, "the connection string"
	}
	delete(st.val, "service")
	return st, service, nil
}

// envSettings are the keywords the PG* environment variables set.
func envSettings(env Environment) settings {
	st := settings{val: map[string]string{}, source: map[string]string{}}
	for _, ek := range envKeywords {
		if v, ok := env.LookupEnv(ek.env); ok && v != "" {
			st.val[ek.keyword], st.source[ek.keyword] = v, ek.env
		}
	}
	// The obsolete PGREQUIRESSL counts only without PGSSLMODE, and only
	// when it starts with "1" (conninfo_add_defaults).
	if v, ok := env.LookupEnv("PGREQUIRESSL"); ok && strings.HasPrefix(v, "1") && !st.has("sslmode") {
		st.val["sslmode"], st.source["sslmode"] = "require", "PGREQUIRESSL"
	}
	return st
}
