// Password file lookup: PostgreSQL documentation 34.16 "The Password File".

package wire

import (
	"strconv"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// passfileLookup finds the password for the current host in the password
// file. The host field matches the host name, or the hostaddr when no name
// was given, and "localhost" when the host is the default socket directory,
// as libpq does.
func (c *Conn) passfileLookup() (string, bool) {
	if c.cfg.Passfile == "" {
		return "", false
	}
	pf, warning, err := pgconf.ReadPassfile(c.cfg.Passfile)
	if warning != nil {
		c.warn(warning.String())
	}
	if err != nil {
		c.warn("could not read password file: " + err.Error())
		return "", false
	}
	if pf == nil {
		return "", false
	}
	host := c.host.Name
	switch {
	case host == "" && c.host.Addr != "":
		host = c.host.Addr
	case host == "":
		host = "localhost"
	default:
		for _, d := range DefaultSocketDirs[:1] {
			if host == d {
				host = "localhost"
			}
		}
	}
	pw, ok := pf.Lookup(host, strconv.Itoa(int(c.host.Port)), c.cfg.Database, c.cfg.User)
	if ok {
		c.passwordFromFile = true
	}
	return pw, ok
}

func (c *Conn) passfileName() string {
	if c.cfg.Passfile == "" {
		return "~/.pgpass"
	}
	return c.cfg.Passfile
}

func (c *Conn) warn(msg string) {
	if c.cfg.OnWarning != nil {
		c.cfg.OnWarning(msg)
	}
}
