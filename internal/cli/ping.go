package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// defaultPingCount is how many round trips ping times unless --count says.
const defaultPingCount = 5

const pingLong = `Connect with the same settings as stream (--dsn or FRAISE_DSN, the PG*
environment, ~/.pgpass, service files, sslmode and friends) and report:
the server version; the host and port, or the socket, connected to; the
user and database; the TLS version and cipher suite, or "not encrypted";
the authentication method the server asked for (none, password, md5,
scram-sha-256), and whether SCRAM was bound to the TLS channel; whether
the server is a standby; and the round-trip time of a trivial query
(SELECT 1 through the extended protocol, inside a read-only transaction):
the median of --count round trips, and the best one.

The exit code says whether the server is healthy: 0 when it answered,
3 when fraise could not connect (network, TLS, authentication, server
unavailable), 4 when the server refused the trivial query. Errors are
reported as stream reports them. Passwords are never shown.

Every flag can also be set as FRAISE_<FLAG>, e.g. FRAISE_DSN. An empty value
(a FRAISE_* variable set to "") is an error, not the default; booleans take
true/false, yes/no, on/off or 1/0.

--json prints the report as one JSON object: server_version, network
("tcp" or "unix"), host, port, address (the IP address and port, or the
socket file, dialled), user, database, tls (null, or version and cipher),
auth, channel_binding, standby, and round_trip_ms (median, best, samples).`

const pingExample = `  fraise ping
  fraise ping -d "postgres://reporter@db.internal/app?sslmode=verify-full"
  fraise ping --json | jq .round_trip_ms.median
  until fraise ping >/dev/null 2>&1; do sleep 1; done   # wait for a server`

func newPingCmd(app *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:               "ping",
		Short:             "Check a connection: server, TLS, authentication, round trip",
		Long:              pingLong,
		Example:           pingExample,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	addPingFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		o, err := resolvePing(cmd, app)
		if err != nil {
			return err
		}
		return runPing(cmd.Context(), app, o)
	}
	return cmd
}

// addPingFlags declares ping's flags.
func addPingFlags(f *pflag.FlagSet) {
	addConnFlags(f)
	addNumberFlag(f, "count", defaultPingCount, "time `N` round trips and report their median and the best")
	addBoolFlag(f, "json", "", "print the report as one JSON object")
}

// pingOptions are what ping does, read from its settings.
type pingOptions struct {
	count int
	json  bool
	conn  *wire.Config
}

// resolvePing reads ping's settings (see resolveSettings) into its options.
func resolvePing(cmd *cobra.Command, app *app) (*pingOptions, error) {
	s, err := resolveSettings(cmd, app.warn)
	if err != nil {
		return nil, err
	}
	o := &pingOptions{count: int(min(s.int("count"), 1<<20)), json: s.bool("json")}
	if o.count < 1 {
		return nil, &usageError{fmt.Errorf("--count must be at least 1, got %d", o.count)}
	}
	if o.conn, err = profileConnConfig(s, app); err != nil {
		return nil, err
	}
	return o, nil
}

// runPing connects as o says, times its round trips and reports.
func runPing(ctx context.Context, app *app, o *pingOptions) error {
	cfg, n := o.conn, o.count
	app.setStage(stageConnect, "")
	conn, err := wire.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	app.setStage(stageQuery, "")
	rtts, err := conn.Ping(ctx, n)
	if err != nil {
		return err
	}
	standby, err := conn.IsStandby(ctx)
	if err != nil {
		return err
	}
	r := newPingReport(cfg, conn, standby, rtts)
	_ = conn.Close() // before writing: the session is not needed for that
	if o.json {
		err = writeJSON(app.stdout, r)
	} else {
		_, err = io.WriteString(app.stdout, r.text())
	}
	if err != nil {
		return &output.WriteError{Err: err}
	}
	return nil
}

// pingReport is what ping reports, in its JSON form.
type pingReport struct {
	ServerVersion  *string  `json:"server_version"`
	Network        string   `json:"network"`
	Host           string   `json:"host"`
	Port           int      `json:"port"`
	Address        string   `json:"address"`
	User           string   `json:"user"`
	Database       string   `json:"database"`
	TLS            *pingTLS `json:"tls"`
	Auth           string   `json:"auth"`
	ChannelBinding bool     `json:"channel_binding"`
	Standby        bool     `json:"standby"`
	RoundTrip      pingRTT  `json:"round_trip_ms"`
}

type pingTLS struct {
	Version string `json:"version"`
	Cipher  string `json:"cipher"`
}

type pingRTT struct {
	Median  float64 `json:"median"`
	Best    float64 `json:"best"`
	Samples int     `json:"samples"`
	median  time.Duration
	best    time.Duration
}

func newPingReport(cfg *wire.Config, conn *wire.Conn, standby bool, rtts []time.Duration) *pingReport {
	network, addr := conn.RemoteAddr()
	h := conn.Host()
	r := &pingReport{
		Network: network, Address: addr, Port: int(h.Port),
		User: cfg.User, Database: cfg.Database,
		Auth:           authName(conn.AuthMethod()),
		ChannelBinding: conn.ChannelBinding(),
		Standby:        standby,
		RoundTrip:      roundTrips(rtts),
	}
	if v := conn.ServerParam("server_version"); v != "" {
		r.ServerVersion = &v
	}
	switch {
	case network == "unix":
		r.Host = filepath.Dir(addr) // the default socket directory resolved
	case h.Name != "":
		r.Host = h.Name
	default:
		r.Host = h.Addr
	}
	if st, ok := conn.TLS(); ok {
		r.TLS = &pingTLS{Version: tlsVersionName(st.Version), Cipher: tls.CipherSuiteName(st.CipherSuite)}
	}
	return r
}

// authName names a method as require_auth does: "none" when the server
// asked for no password (trust, peer, or a client certificate).
func authName(method string) string {
	if method == "trust" {
		return "none"
	}
	return method
}

// tlsVersionName spells a TLS version as PostgreSQL's settings and
// pg_stat_ssl do: TLSv1.2, TLSv1.3.
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return tls.VersionName(v)
}

// roundTrips summarizes the timings: the median (of the middle two for an
// even count) and the best, in milliseconds to the microsecond.
func roundTrips(rtts []time.Duration) pingRTT {
	s := slices.Clone(rtts)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }
	return pingRTT{Median: ms(med), Best: ms(s[0]), Samples: len(s), median: med, best: s[0]}
}

// text renders the report as aligned "key: value" lines.
func (r *pingReport) text() string {
	var lines [][2]string
	add := func(k, v string) { lines = append(lines, [2]string{k, v}) }
	version := "not reported"
	if r.ServerVersion != nil {
		version = *r.ServerVersion
	}
	add("server version", version)
	if r.Network == "unix" {
		add("socket", r.Address)
	} else {
		add("host", r.Host)
		add("port", fmt.Sprint(r.Port))
		if host, _, err := net.SplitHostPort(r.Address); err == nil && host != r.Host {
			add("address", r.Address)
		}
	}
	add("user", r.User)
	add("database", r.Database)
	if r.TLS == nil {
		add("tls", "not encrypted")
	} else {
		add("tls", r.TLS.Version+", "+r.TLS.Cipher)
	}
	auth := r.Auth
	switch {
	case auth == "none":
		auth = "none (no password asked for: trust, peer or a client certificate)"
	case r.ChannelBinding:
		auth += " with channel binding (tls-server-end-point)"
	}
	add("auth", auth)
	add("standby", map[bool]string{true: "yes", false: "no"}[r.Standby])
	add("round trip", fmt.Sprintf("%s (median of %d; best %s)", formatMS(r.RoundTrip.median), r.RoundTrip.Samples, formatMS(r.RoundTrip.best)))
	width := 0
	for _, l := range lines {
		width = max(width, len(l[0]))
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-*s %s\n", width+1, l[0]+":", safeText(l[1]))
	}
	return b.String()
}

func formatMS(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}

// writeJSON writes v as indented JSON, HTML characters as they are.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
