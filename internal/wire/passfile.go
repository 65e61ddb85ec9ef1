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
		c.passfileIgnored = warning
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

// noPasswordHint says how to supply the password the server asked for,
// or how to fix a password file that was passed over.
func (c *Conn) noPasswordHint() string {
	const others = "set PGPASSWORD, or put the password in the connection string"
	if w := c.passfileIgnored; w != nil {
		switch w.Kind {
		case pgconf.PassfileOpenToOthers:
			return "password file " + w.Path + " was ignored because group or others can read it; make it private with chmod 600 " + w.Path + ", or " + others
		case pgconf.PassfileNotPlain:
			return "password file " + w.Path + " was ignored because it is not a plain file; point passfile or PGPASSFILE at your password file, or " + others
		}
	}
	return "set PGPASSWORD, add a line to " + c.passfileName() + ", or put the password in the connection string"
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
