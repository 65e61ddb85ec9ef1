package wire_test

import (
	"crypto/tls"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
)

func envOf(vars map[string]string) wire.Environment {
	return wire.Environment{
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Username:  func() (string, error) { return "osuser", nil },
		HomeDir:   func() (string, error) { return "/home/osuser", nil },
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name  string
		conn  string
		env   map[string]string
		check func(t *testing.T, c *wire.Config)
	}{
		{"libpq defaults", "", nil, func(t *testing.T, c *wire.Config) {
			want := []wire.Host{{Port: 5432}}
			if !reflect.DeepEqual(c.Hosts, want) || c.User != "osuser" || c.Database != "osuser" ||
				c.Passfile != "/home/osuser/.pgpass" || c.ApplicationName != "fraise" || c.HasPassword ||
				c.TLS.Mode != "prefer" || !c.Keepalives || c.ConnectTimeout != 0 {
				t.Errorf("defaults: %+v", c)
			}
			if !c.Hosts[0].IsSocket() {
				t.Error("no host should mean a Unix socket")
			}
		}},
		{"environment", "", map[string]string{"PGHOST": "db.example", "PGPORT": "6543", "PGUSER": "envuser", "PGDATABASE": "envdb",
			"PGPASSWORD": "envpw", "PGPASSFILE": "/etc/pw", "PGAPPNAME": "nightly", "PGCONNECT_TIMEOUT": "7", "PGOPTIONS": "-c work_mem=64MB"},
			func(t *testing.T, c *wire.Config) {
				if !reflect.DeepEqual(c.Hosts, []wire.Host{{Name: "db.example", Port: 6543}}) || c.User != "envuser" || c.Database != "envdb" ||
					c.Password != "envpw" || !c.HasPassword || c.PasswordSource != "PGPASSWORD" || c.Passfile != "/etc/pw" ||
					c.ApplicationName != "nightly" || c.ConnectTimeout != 7*time.Second || c.Options != "-c work_mem=64MB" {
					t.Errorf("from environment: %+v", c)
				}
			}},
		{"connection string beats environment", "host=/run/pg port=5000 user=u password='a\\'b' application_name=x",
			map[string]string{"PGHOST": "envhost", "PGPORT": "1", "PGUSER": "envuser", "PGPASSWORD": "envpw", "PGAPPNAME": "envapp"},
			func(t *testing.T, c *wire.Config) {
				if !reflect.DeepEqual(c.Hosts, []wire.Host{{Name: "/run/pg", Port: 5000}}) || c.User != "u" || c.Database != "u" ||
					c.Password != "a'b" || c.PasswordSource != "the connection string" || c.ApplicationName != "x" {
					t.Errorf("overrides: %+v", c)
				}
				if got := c.Hosts[0].SocketPath(); got != "/run/pg/.s.PGSQL.5000" {
					t.Errorf("SocketPath = %s", got)
				}
			}},
		{"URL with IPv6 and a list", "postgres://bob@[::1]:5433,db2/app?connect_timeout=1", nil, func(t *testing.T, c *wire.Config) {
			want := []wire.Host{{Name: "::1", Port: 5433}, {Name: "db2", Port: 5432}}
			if !reflect.DeepEqual(c.Hosts, want) || c.User != "bob" || c.Database != "app" || c.ConnectTimeout != 2*time.Second {
				t.Errorf("URL: %+v %+v", c, c.Hosts)
			}
			if c.Hosts[0].String() != "[::1]:5433" {
				t.Errorf("String() = %s", c.Hosts[0].String())
			}
		}},
		{"host and port lists", "host=a,b,/tmp port=1,2,3", nil, func(t *testing.T, c *wire.Config) {
			want := []wire.Host{{Name: "a", Port: 1}, {Name: "b", Port: 2}, {Name: "/tmp", Port: 3}}
			if !reflect.DeepEqual(c.Hosts, want) {
				t.Errorf("hosts = %+v", c.Hosts)
			}
		}},
		{"one port for all hosts", "host=a,b port=7", nil, func(t *testing.T, c *wire.Config) {
			if c.Hosts[0].Port != 7 || c.Hosts[1].Port != 7 {
				t.Errorf("hosts = %+v", c.Hosts)
			}
		}},
		{"hostaddr skips the name", "host=db hostaddr=127.0.0.1", nil, func(t *testing.T, c *wire.Config) {
			if c.Hosts[0].IsSocket() || c.Hosts[0].Addr != "127.0.0.1" {
				t.Errorf("hosts = %+v", c.Hosts)
			}
		}},
		{"empty password is a password", "password=''", nil, func(t *testing.T, c *wire.Config) {
			if !c.HasPassword || c.Password != "" {
				t.Errorf("HasPassword=%v", c.HasPassword)
			}
		}},
		{"keepalives off", "keepalives=0 keepalives_idle=30", nil, func(t *testing.T, c *wire.Config) {
			if c.Keepalives || c.KeepalivesIdle != 30*time.Second {
				t.Errorf("keepalives %v %v", c.Keepalives, c.KeepalivesIdle)
			}
		}},
		{"fallback application name", "fallback_application_name=fb", nil, func(t *testing.T, c *wire.Config) {
			if c.ApplicationName != "fb" {
				t.Errorf("ApplicationName = %q", c.ApplicationName)
			}
		}},
		{"TLS defaults", "", nil, func(t *testing.T, c *wire.Config) {
			tc := c.TLS
			if tc.Mode != "prefer" || tc.RootCert != "/home/osuser/.postgresql/root.crt" || tc.Cert != "/home/osuser/.postgresql/postgresql.crt" ||
				tc.Key != "/home/osuser/.postgresql/postgresql.key" || tc.CRL != "/home/osuser/.postgresql/root.crl" || !tc.SNI ||
				tc.MinVersion != tls.VersionTLS12 || tc.MaxVersion != 0 || tc.Direct || tc.CertMode != "allow" ||
				c.ChannelBinding != "prefer" || c.TargetSessionAttrs != "any" || c.LoadBalance || c.RequireAuth.String() != "" {
				t.Errorf("TLS defaults: %+v, channel_binding %q", tc, c.ChannelBinding)
			}
		}},
		{"sslrootcert=system implies verify-full", "sslrootcert=system", nil, func(t *testing.T, c *wire.Config) {
			if c.TLS.Mode != "verify-full" || c.TLS.RootCert != "system" {
				t.Errorf("mode %q root %q", c.TLS.Mode, c.TLS.RootCert)
			}
		}},
		{"TLS settings from the environment", "", map[string]string{"PGSSLMODE": "verify-ca", "PGSSLROOTCERT": "/r.crt", "PGSSLCERT": "/c.crt",
			"PGSSLKEY": "/c.key", "PGSSLNEGOTIATION": "direct", "PGSSLSNI": "0", "PGSSLMINPROTOCOLVERSION": "TLSv1.3",
			"PGCHANNELBINDING": "require", "PGREQUIREAUTH": "scram-sha-256", "PGTARGETSESSIONATTRS": "read-write", "PGLOADBALANCEHOSTS": "random", "PGSSLCERTMODE": "require"},
			func(t *testing.T, c *wire.Config) {
				tc := c.TLS
				if tc.Mode != "verify-ca" || tc.RootCert != "/r.crt" || tc.Cert != "/c.crt" || tc.Key != "/c.key" || !tc.Direct || tc.SNI ||
					tc.MinVersion != tls.VersionTLS13 || tc.CertMode != "require" || c.ChannelBinding != "require" ||
					c.RequireAuth.String() != "scram-sha-256" || c.TargetSessionAttrs != "read-write" || !c.LoadBalance {
					t.Errorf("from environment: %+v %+v", tc, c)
				}
			}},
		{"PGREQUIRESSL does not override PGSSLMODE", "", map[string]string{"PGSSLMODE": "verify-full", "PGREQUIRESSL": "0"}, func(t *testing.T, c *wire.Config) {
			if c.TLS.Mode != "verify-full" {
				t.Errorf("mode %q, want verify-full", c.TLS.Mode)
			}
		}},
		{"PGREQUIRESSL=1 alone", "", map[string]string{"PGREQUIRESSL": "1"}, func(t *testing.T, c *wire.Config) {
			if c.TLS.Mode != "require" {
				t.Errorf("mode %q, want require", c.TLS.Mode)
			}
		}},
		{"PGREQUIRESSL=0 alone is ignored", "", map[string]string{"PGREQUIRESSL": "0"}, func(t *testing.T, c *wire.Config) {
			if c.TLS.Mode != "prefer" {
				t.Errorf("mode %q, want prefer", c.TLS.Mode)
			}
		}},
		{"sslcrldir drops the default root.crl", "sslcrldir=/crls", nil, func(t *testing.T, c *wire.Config) {
			if c.TLS.CRL != "" || c.TLS.CRLDir != "/crls" {
				t.Errorf("CRL %q CRLDir %q", c.TLS.CRL, c.TLS.CRLDir)
			}
		}},
		{"requiressl=1 is sslmode=require", "requiressl=1", nil, func(t *testing.T, c *wire.Config) {
			if c.TLS.Mode != "require" {
				t.Errorf("mode %q", c.TLS.Mode)
			}
		}},
		{"keepalive details", "keepalives_interval=5 keepalives_count=3 tcp_user_timeout=1500", nil, func(t *testing.T, c *wire.Config) {
			if c.KeepalivesInterval != 5*time.Second || c.KeepalivesCount != 3 || c.TCPUserTimeout != 1500*time.Millisecond {
				t.Errorf("interval %v count %d user timeout %v", c.KeepalivesInterval, c.KeepalivesCount, c.TCPUserTimeout)
			}
		}},
		{"zero timeout means none", "connect_timeout=0", nil, func(t *testing.T, c *wire.Config) {
			if c.ConnectTimeout != 0 {
				t.Errorf("ConnectTimeout = %v", c.ConnectTimeout)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := wire.ParseConfig(tt.conn, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseConfigRejects(t *testing.T) {
	tests := []struct {
		name, conn string
		env        map[string]string
		want       string
	}{
		{"unknown keyword", "host=a nosuch=1", nil, `invalid connection option "nosuch"`},
		{"bad port", "port=x", nil, `invalid port number: "x"`},
		{"port zero", "port=0", nil, `invalid port number: "0"`},
		{"port too big", "port=70000", nil, `invalid port number: "70000"`},
		{"ports do not match hosts", "host=a,b,c port=1,2", nil, "could not match 2 port numbers to 3 hosts"},
		{"one hostaddr for two hosts", "host=a,b hostaddr=10.0.0.1", nil, "could not match 2 host names to 1 hostaddr values"},
		{"two hostaddrs for one host", "host=a hostaddr=10.0.0.1,10.0.0.2", nil, "could not match 1 host names to 2 hostaddr values"},
		{"bad timeout", "connect_timeout=soon", nil, `invalid integer value "soon" for connection option "connect_timeout"`},
		{"unknown sslmode", "sslmode=secure", nil, `invalid sslmode value: "secure" (from the connection string)`},
		{"unknown sslmode from environment", "", map[string]string{"PGSSLMODE": "on"}, `invalid sslmode value: "on" (from PGSSLMODE)`},
		{"direct TLS needs require", "sslnegotiation=direct", nil, `weak sslmode "prefer" (from the default) may not be used with sslnegotiation=direct`},
		{"direct TLS with allow", "sslnegotiation=direct sslmode=allow", nil, `weak sslmode "allow"`},
		{"system roots need verify-full", "sslrootcert=system sslmode=verify-ca", nil, `weak sslmode "verify-ca" (from the connection string) may not be used with sslrootcert=system (use "verify-full")`},
		{"bad sslnegotiation", "sslnegotiation=fast", nil, `invalid sslnegotiation value: "fast"`},
		{"bad TLS version", "ssl_min_protocol_version=TLSv9", nil, `invalid ssl_min_protocol_version value: "TLSv9"`},
		{"TLS version range", "ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2", nil, "invalid SSL protocol version range"},
		{"bad sslcertmode", "sslcertmode=maybe", nil, `invalid sslcertmode value: "maybe"`},
		{"GSS encryption", "gssencmode=require", nil, "GSSAPI encryption is not supported by fraise"},
		{"target session attrs", "target_session_attrs=primary-ish", nil, `invalid target_session_attrs value: "primary-ish"`},
		{"load balance", "load_balance_hosts=round-robin", nil, `invalid load_balance_hosts value: "round-robin"`},
		{"non-UTF8 encoding", "client_encoding=LATIN1", nil, "client_encoding=LATIN1"},
		{"channel binding", "channel_binding=always", nil, `invalid channel_binding value: "always"`},
		{"require_auth mixed", "require_auth=scram-sha-256,!md5", nil, `negative require_auth method "!md5" cannot be mixed with non-negative methods`},
		{"require_auth mixed negative first", "require_auth=!password,!none,scram-sha-256", nil, `require_auth method "scram-sha-256" cannot be mixed with negative methods`},
		{"require_auth duplicate", "require_auth=!password,!md5,!password", nil, `require_auth method "!password" is specified more than once`},
		{"require_auth unknown", "require_auth=none,abcdefg", nil, `invalid require_auth value: "abcdefg"`},
		{"replication", "replication=database", nil, "fraise does not open replication connections"},
		{"OAuth", "oauth_issuer=https://id.example", nil, "OAuth authentication is not supported"},
		{"protocol 3.2 minimum", "min_protocol_version=3.2", nil, "fraise speaks protocol version 3.0"},
		{"bad keepalives count", "keepalives_count=-1", nil, `invalid integer value "-1" for connection option "keepalives_count"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wire.ParseConfig(tt.conn, envOf(tt.env))
			var ce *wire.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a ConfigError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseConfigErrorHidesPassword(t *testing.T) {
	for _, conn := range []string{
		"postgres://u:TopSecret1@h/db?bogus=1",
		"password=TopSecret1 bogus=1",
		"password='TopSecret1' port=x",
	} {
		_, err := wire.ParseConfig(conn, envOf(nil))
		if err == nil || strings.Contains(err.Error(), "TopSecret1") {
			t.Errorf("ParseConfig(%q) error %v shows the password or is nil", conn, err)
		}
	}
}

func TestMD5Password(t *testing.T) {
	// md5(md5("secret"+"alice") hex + salt) computed independently.
	got := wire.MD5Password("alice", "secret", [4]byte{0x01, 0x02, 0x03, 0x04})
	if want := "md598a0412b9c31436fc53776e863350083"; got != want {
		t.Fatalf("MD5Password = %q, want %q", got, want)
	}
}
