// require_auth (PostgreSQL 16 libpq): the authentication methods the client
// accepts, checked against every request the server makes.

package wire

import (
	"fmt"
	"slices"
	"strings"
)

// requireAuthMethods are the methods require_auth can name. fraise never
// performs gss, sspi or oauth, but accepts the names as libpq does, so a
// setting written for psql parses.
var requireAuthMethods = []string{"password", "md5", "gss", "sspi", "scram-sha-256", "oauth", "none"}

// AuthPolicy is a parsed require_auth setting. The zero value allows every
// method, as an unset require_auth does.
type AuthPolicy struct {
	raw      string
	negated  bool            // a list of "!method": everything but those
	listed   map[string]bool // the methods named, without "!"
	required bool            // the server must complete an authentication exchange
}

// ParseAuthPolicy parses a require_auth value: a comma-separated list of
// methods, all plain (only these are allowed; "none" allows no
// authentication at all) or all negated with "!" (any method but these;
// "!none" demands some authentication). Errors use libpq's wording.
func ParseAuthPolicy(s string) (AuthPolicy, error) {
	p := AuthPolicy{raw: s}
	if s == "" {
		return p, nil
	}
	p.listed = map[string]bool{}
	for i, item := range strings.Split(s, ",") {
		neg := strings.HasPrefix(item, "!")
		name := strings.TrimPrefix(item, "!")
		if i == 0 {
			p.negated = neg
		} else if neg && !p.negated {
			return p, fmt.Errorf("negative require_auth method %q cannot be mixed with non-negative methods", item)
		} else if !neg && p.negated {
			return p, fmt.Errorf("require_auth method %q cannot be mixed with negative methods", item)
		}
		if !slices.Contains(requireAuthMethods, name) {
			return p, fmt.Errorf("invalid require_auth value: %q; valid methods: %s, each optionally negated with \"!\"", name, strings.Join(requireAuthMethods, ", "))
		}
		if p.listed[name] {
			return p, fmt.Errorf("require_auth method %q is specified more than once", item)
		}
		p.listed[name] = true
	}
	if p.negated {
		p.required = p.listed["none"]
	} else {
		p.required = !p.listed["none"]
	}
	return p, nil
}

// String returns the setting as given.
func (p AuthPolicy) String() string { return p.raw }

// allows reports whether the server may use method.
func (p AuthPolicy) allows(method string) bool {
	if p.listed == nil {
		return true
	}
	return p.listed[method] != p.negated
}

// checkRequest vets an authentication request for method ("password",
// "md5", "scram-sha-256", "gss", "sspi"), before anything is sent.
func (p AuthPolicy) checkRequest(method string) error {
	if p.allows(method) {
		return nil
	}
	reason := map[string]string{
		"password":      "server requested a cleartext password",
		"md5":           "server requested a hashed password",
		"gss":           "server requested GSSAPI authentication",
		"sspi":          "server requested SSPI authentication",
		"scram-sha-256": "server requested SASL authentication",
	}[method]
	if method == "scram-sha-256" && p.negated {
		reason = "server requested SCRAM-SHA-256 authentication"
	}
	if reason == "" {
		reason = "server requested an unknown authentication type"
	}
	return p.failure(reason)
}

// checkOK vets AuthenticationOk: finished says whether the client completed
// an authentication exchange (sent a password, or verified SCRAM).
func (p AuthPolicy) checkOK(finished bool) error {
	if p.listed == nil || !p.required || finished {
		return nil
	}
	return p.failure("server did not complete authentication")
}

func (p AuthPolicy) failure(reason string) error {
	return &AuthError{
		Msg:  fmt.Sprintf("authentication method requirement %q failed: %s", p.raw, reason),
		Hint: "require_auth is set to " + p.raw + "; the server's pg_hba.conf chose another method. Change require_auth, or ask the administrator for a matching pg_hba.conf rule",
	}
}
