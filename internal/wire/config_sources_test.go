package wire

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolveSettings: each keyword's value and source, by libpq's
// precedence: the environment, then the service file, then the connection
// string.
func TestResolveSettings(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pg_service.conf")
	if err := os.WriteFile(file, []byte("[s]\ndbname=from_service\nsslmode=verify-ca\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromService := `service "s" in ` + file
	for _, tc := range []struct {
		name       string
		conn       string
		env        map[string]string
		key        string
		want, from string // want "" and from "": unset
		service    string
		err        string
	}{
		{name: "nowhere", key: "dbname"},
		{name: "environment", env: map[string]string{"PGDATABASE": "e"}, key: "dbname", want: "e", from: "PGDATABASE"},
		{name: "an empty variable is unset", env: map[string]string{"PGDATABASE": ""}, key: "dbname"},
		{name: "service file over environment", conn: "service=s", env: map[string]string{"PGDATABASE": "e"},
			key: "dbname", want: "from_service", from: fromService, service: "s"},
		{name: "PGSERVICE names the service", env: map[string]string{"PGSERVICE": "s"},
			key: "sslmode", want: "verify-ca", from: fromService, service: "s"},
		{name: "connection string over service file", conn: "service=s dbname=c", env: map[string]string{"PGDATABASE": "e"},
			key: "dbname", want: "c", from: "the connection string", service: "s"},
		{name: "PGREQUIRESSL", env: map[string]string{"PGREQUIRESSL": "1"}, key: "sslmode", want: "require", from: "PGREQUIRESSL"},
		{name: "PGSSLMODE over PGREQUIRESSL", env: map[string]string{"PGREQUIRESSL": "1", "PGSSLMODE": "disable"},
			key: "sslmode", want: "disable", from: "PGSSLMODE"},
		{name: "the service keyword itself is not a setting", conn: "service=s", key: "service", service: "s"},
		{name: "unknown service", env: map[string]string{"PGSERVICE": "nope"}, key: "dbname",
			err: `(service "nope" from PGSERVICE)`},
		{name: "unreadable connection string", conn: "dbname", key: "dbname", err: `missing "="`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"PGSERVICEFILE": file, "PGSYSCONFDIR": dir}
			for k, v := range tc.env {
				vars[k] = v
			}
			env := Environment{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}.withDefaults()
			st, service, err := resolveSettings(tc.conn, env)
			if tc.err != "" {
				var ce *ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want a *ConfigError saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, has := st.val[tc.key]
			if has != (tc.from != "") || got != tc.want || (has && st.from(tc.key) != tc.from) || service != tc.service {
				t.Errorf("%s = %q (set %v) from %q, service %q; want %q from %q, service %q",
					tc.key, got, has, st.from(tc.key), service, tc.want, tc.from, tc.service)
			}
		})
	}
}
