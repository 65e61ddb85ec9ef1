// Connection service files: PostgreSQL documentation 34.17 "The Connection
// Service File".

package wire

import (
	"path/filepath"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// DefaultSysConfDir is the directory of the system-wide pg_service.conf
// when PGSYSCONFDIR is not set: Debian's libpq default.
const DefaultSysConfDir = "/etc/postgresql-common"

// serviceFiles returns the files searched for a service, as libpq does:
// PGSERVICEFILE or ~/.pg_service.conf, then PGSYSCONFDIR/pg_service.conf.
func serviceFiles(env Environment) pgconf.ServiceFiles {
	var f pgconf.ServiceFiles
	if v, ok := env.LookupEnv("PGSERVICEFILE"); ok { // "" too: libpq then fails to open it
		f.User, f.UserExplicit = v, true
	} else if home, err := env.HomeDir(); err == nil && home != "" {
		f.User = filepath.Join(home, ".pg_service.conf")
	}
	dir := DefaultSysConfDir
	if v, ok := env.LookupEnv("PGSYSCONFDIR"); ok && v != "" {
		dir = v
	}
	f.System = filepath.Join(dir, "pg_service.conf")
	return f
}
