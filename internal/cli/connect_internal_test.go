package cli

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
)

// clearPGEnv unsets every PG* and FRAISE_* variable for the test.
func clearPGEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "FRAISE_") {
			t.Setenv(k, "") // restored at the end of the test
			_ = os.Unsetenv(k)
		}
	}
	t.Setenv("PGPASSFILE", "/nonexistent/pgpass")
}

func TestConnConfig(t *testing.T) {
	const dsn = "host=/nonexistent port=1 user=u dbname=d connect_timeout=7"
	tests := []struct {
		name    string
		flags   map[string]string
		want    time.Duration
		wantErr []string
	}{
		{"connect_timeout from the connection string", map[string]string{"dsn": dsn}, 7 * time.Second, nil},
		{"--connect-timeout overrides it", map[string]string{"dsn": dsn, "connect-timeout": "1m30s"}, 90 * time.Second, nil},
		{"--connect-timeout 0 means no limit", map[string]string{"dsn": dsn, "connect-timeout": "0"}, 0, nil},
		{"a bare number needs a unit", map[string]string{"dsn": dsn, "connect-timeout": "5"}, 0, []string{"--connect-timeout", "5s"}},
		{"not a duration", map[string]string{"dsn": dsn, "connect-timeout": "soon"}, 0, []string{"--connect-timeout", `"soon" is not a duration`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearPGEnv(t)
			v := testSettings(tt.flags)
			cfg, err := connConfig(v, nil)
			if tt.wantErr != nil {
				checkLimitUsageError(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ConnectTimeout != tt.want || cfg.User != "u" || cfg.Database != "d" {
				t.Errorf("timeout %s, user %q, database %q; want %s, u, d", cfg.ConnectTimeout, cfg.User, cfg.Database, tt.want)
			}
		})
	}
}

func TestConnConfigBadDSN(t *testing.T) {
	clearPGEnv(t)
	v := testSettings(map[string]string{"dsn": "host=/x nosuchkeyword=1"})
	_, err := connConfig(v, nil)
	var ce *wire.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "nosuchkeyword") || exitCode(err) != ExitUsage {
		t.Errorf("connConfig = %v, want a *wire.ConfigError naming the keyword, exit 2", err)
	}
}

func TestConnConfigMessages(t *testing.T) {
	clearPGEnv(t)
	v := testSettings(map[string]string{"dsn": "host=/nonexistent user=u dbname=d"})
	silent, err := connConfig(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if silent.OnWarning != nil || silent.OnNotice != nil {
		t.Error("a nil stderr still gets warnings or notices")
	}
	var stderr bytes.Buffer
	loud, err := connConfig(v, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	loud.OnWarning("password file is readable by others")
	loud.OnNotice(&wire.PgError{Severity: "NOTICE", Message: "hello"})
	if want := "fraise: warning: password file is readable by others\nfraise: NOTICE: hello\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}
