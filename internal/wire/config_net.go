// The network part of the settings: hosts and ports, timeouts, TCP
// keepalives.

package wire

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

func parseHosts(settings map[string]string) ([]Host, error) {
	names := splitList(settings["host"])
	addrs := splitList(settings["hostaddr"])
	ports := splitList(settings["port"])
	n := max(len(names), len(addrs), 1)
	if len(names) > 0 && len(addrs) > 0 && len(names) != len(addrs) {
		return nil, &ConfigError{Keyword: "hostaddr", Err: fmt.Errorf("could not match %d host names to %d hostaddr values", len(names), len(addrs))}
	}
	if len(ports) > 1 && len(ports) != n {
		return nil, &ConfigError{Keyword: "port", Err: fmt.Errorf("could not match %d port numbers to %d hosts", len(ports), n)}
	}
	hosts := make([]Host, n)
	for i := range hosts {
		if i < len(names) {
			hosts[i].Name = names[i]
		}
		if i < len(addrs) {
			hosts[i].Addr = addrs[i]
		}
		p := ""
		if len(ports) == 1 {
			p = ports[0]
		} else if i < len(ports) {
			p = ports[i]
		}
		hosts[i].Port = DefaultPort
		if p != "" {
			v, err := strconv.ParseUint(p, 10, 16)
			if err != nil || v == 0 {
				return nil, &ConfigError{Keyword: "port", Err: fmt.Errorf("invalid port number: %q", p)}
			}
			hosts[i].Port = uint16(v)
		}
	}
	return hosts, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func parseConnectTimeout(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, invalidInt("connect_timeout", v)
	}
	switch {
	case n <= 0:
		return 0, nil
	case n == 1:
		// libpq raises a one-second timeout to two seconds.
		n = 2
	}
	return time.Duration(n) * time.Second, nil
}

// parseKeepalives reads the TCP keepalive and user-timeout settings.
func parseKeepalives(st settings, cfg *Config) error {
	num := func(k string) (int, error) {
		v := strings.TrimSpace(st.get(k))
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, invalidInt(k, v)
		}
		return n, nil
	}
	if v := st.get("keepalives"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return invalidInt("keepalives", v)
		}
		cfg.Keepalives = n != 0
	}
	for _, f := range []struct {
		k    string
		dst  *time.Duration
		unit time.Duration
	}{
		{"keepalives_idle", &cfg.KeepalivesIdle, time.Second},
		{"keepalives_interval", &cfg.KeepalivesInterval, time.Second},
		{"tcp_user_timeout", &cfg.TCPUserTimeout, time.Millisecond},
	} {
		n, err := num(f.k)
		if err != nil {
			return err
		}
		*f.dst = time.Duration(n) * f.unit
	}
	n, err := num("keepalives_count")
	cfg.KeepalivesCount = n
	return err
}
