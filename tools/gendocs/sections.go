// The sections gendocs adds to cobra's: EXIT STATUS, ENVIRONMENT, FILES
// and EXAMPLES. A command that connects to PostgreSQL (it has --dsn) and
// the overview page get them in full; the others say what concerns them
// and point to fraise(1).

package main

import (
	"fmt"
	"strings"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// pgVar is a libpq environment variable fraise reads.
type pgVar struct{ name, keyword string }

// pgVars are the libpq environment variables of wire.md's "Environment"
// and the README, each standing for a connection keyword. Each takes
// effect below --dsn and above libpq's defaults, as in libpq.
var pgVars = []pgVar{
	{"PGHOST", "host"}, {"PGHOSTADDR", "hostaddr"}, {"PGPORT", "port"},
	{"PGDATABASE", "dbname"}, {"PGUSER", "user"}, {"PGPASSWORD", "password"},
	{"PGPASSFILE", "passfile"}, {"PGSERVICE", "service"}, {"PGSERVICEFILE", ""},
	{"PGSYSCONFDIR", ""}, {"PGSSLMODE", "sslmode"}, {"PGSSLROOTCERT", "sslrootcert"},
	{"PGSSLCERT", "sslcert"}, {"PGSSLKEY", "sslkey"}, {"PGSSLCERTMODE", "sslcertmode"},
	{"PGSSLCRL", "sslcrl"}, {"PGSSLCRLDIR", "sslcrldir"}, {"PGSSLSNI", "sslsni"},
	{"PGSSLNEGOTIATION", "sslnegotiation"}, {"PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"},
	{"PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"}, {"PGCONNECT_TIMEOUT", "connect_timeout"},
	{"PGAPPNAME", "application_name"}, {"PGOPTIONS", "options"},
	{"PGTARGETSESSIONATTRS", "target_session_attrs"}, {"PGLOADBALANCEHOSTS", "load_balance_hosts"},
	{"PGCHANNELBINDING", "channel_binding"}, {"PGREQUIREAUTH", "require_auth"},
	{"PGREQUIREPEER", "requirepeer"}, {"PGCLIENTENCODING", "client_encoding"},
}

// pgVarsRefused are read as libpq does, and accepted only with the values
// fraise supports (GSSAPI off, protocol 3.0, no SSL compression).
var pgVarsRefused = []string{
	"PGGSSENCMODE", "PGKRBSRVNAME", "PGGSSLIB", "PGGSSDELEGATION", "PGSSLCOMPRESSION",
	"PGMINPROTOCOLVERSION", "PGMAXPROTOCOLVERSION", "PGREQUIRESSL",
}

// sections returns the roff of the added sections of c's page.
func sections(c *cobra.Command, examples string) []byte {
	var b strings.Builder
	full := connects(c) || !c.HasParent()
	exitStatus(&b, full)
	environment(&b, c, full)
	files(&b, c, full)
	if examples != "" {
		b.WriteString(".SH EXAMPLES\n.EX\n" + roffText(examples) + "\n.EE\n")
	}
	return []byte(b.String())
}

// connects reports whether c connects to PostgreSQL: it takes --dsn.
func connects(c *cobra.Command) bool { return c.Flags().Lookup("dsn") != nil }

// tagged writes a tagged paragraph: tag in bold, then the text.
func tagged(b *strings.Builder, tag, text string) {
	fmt.Fprintf(b, ".TP\n.B %s\n%s\n", roffText(tag), roffText(text))
}

func exitStatus(b *strings.Builder, full bool) {
	b.WriteString(".SH EXIT STATUS\n")
	for _, s := range cli.ExitStatuses() {
		if full || s.Code == cli.ExitOK || s.Code == cli.ExitUsage {
			tagged(b, fmt.Sprint(s.Code), s.Meaning)
		}
	}
	if !full {
		b.WriteString(".PP\nThe other codes are those of\n.BR fraise (1).\n")
	}
}

func environment(b *strings.Builder, c *cobra.Command, full bool) {
	b.WriteString(".SH ENVIRONMENT\n")
	if !full {
		b.WriteString("Only the commands that connect read the environment; see\n.BR fraise (1).\n")
		return
	}
	b.WriteString(roffText("A flag wins over its variable; a variable over the config file's profile, which wins over the PG* variables and libpq's defaults. A FRAISE_* variable set to the empty string is an error, not the default: unset it instead (only FRAISE_PARAM takes an empty value). A boolean takes true/false, yes/no, on/off or 1/0, in any case.") + "\n")
	if c.Flags().Lookup("config") != nil {
		tagged(b, "FRAISE_CONFIG", "the config file, as --config.")
		tagged(b, "FRAISE_PROFILE", "the config file's profile, as --profile.")
	}
	if connects(c) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" || f.Hidden {
				return
			}
			tagged(b, envName(f.Name), fmt.Sprintf("--%s, when the flag is not given.%s", f.Name, envNote(f)))
		})
	} else {
		tagged(b, "FRAISE_<FLAG>", "every flag of a command that connects, such as FRAISE_DSN for --dsn or FRAISE_ORDER_BY for --order-by: the flag's name in upper case, with _ for -.")
	}
	for _, v := range pgVars {
		text := "the connection keyword " + v.keyword + ", as in libpq."
		switch v.name {
		case "PGSERVICEFILE":
			text = "the user's service file, instead of ~/.pg_service.conf."
		case "PGSYSCONFDIR":
			text = "the directory of the system's pg_service.conf (default " + wire.DefaultSysConfDir + ")."
		case "PGPASSWORD":
			text += " Prefer ~/.pgpass or a profile's password_command: other users may see a process's environment."
		}
		tagged(b, v.name, text)
	}
	b.WriteString(".PP\n" + roffText("Also read as libpq reads them, and refused with a message when set to what fraise does not support (GSSAPI, other protocol versions, SSL compression): "+strings.Join(pgVarsRefused, ", ")+".") + "\n")
	tagged(b, "XDG_CONFIG_HOME", "where the config file is looked for (see FILES); default ~/.config.")
	tagged(b, "HOME", "the home directory of ~/.pgpass, ~/.pg_service.conf and ~/.postgresql/.")
	if c.Flags().Lookup("jq") != nil || !c.HasParent() {
		tagged(b, "GOGC, GOMEMLIMIT", "the Go garbage collector's settings. While --jq runs, the collector runs at GOGC=50 (a collection once the heap has grown by half the live heap) unless GOGC is set; GOMEMLIMIT applies as usual.")
	}
}

// envName is the FRAISE_* variable of a flag.
func envName(flag string) string {
	return "FRAISE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// envNote says how a repeatable flag's variable is read.
func envNote(f *pflag.Flag) string {
	if strings.HasSuffix(f.Value.Type(), "Array") || strings.HasSuffix(f.Value.Type(), "Slice") {
		return " It holds one value, never split."
	}
	return ""
}

func files(b *strings.Builder, c *cobra.Command, full bool) {
	b.WriteString(".SH FILES\n")
	if !full {
		b.WriteString("None; the files of the commands that connect are listed in\n.BR fraise (1).\n")
		return
	}
	if c.Flags().Lookup("config") != nil {
		tagged(b, "$XDG_CONFIG_HOME/fraise/config.yaml, else ~/.config/fraise/config.yaml",
			"the config file: default_profile and profiles, each a dsn, a password_command and any stream default. --config FILE (or FRAISE_CONFIG) reads FILE instead. A dsn holding a password in a file that others can read draws a warning.")
	}
	tagged(b, "~/.pgpass", "passwords, host:port:database:user:password, looked up per host tried (PGPASSFILE or passfile names another file). Ignored, with a warning, when group or others can read it: chmod 600 ~/.pgpass.")
	tagged(b, "~/.pg_service.conf, "+wire.DefaultSysConfDir+"/pg_service.conf", "connection services (service= or PGSERVICE); the user's file wins over the system's (PGSERVICEFILE, PGSYSCONFDIR).")
	tagged(b, "~/.postgresql/root.crt", "the certificate authorities that verify the server (sslrootcert); when the file exists the chain is verified even under sslmode=require.")
	tagged(b, "~/.postgresql/root.crl", "certificate revocation list (sslcrl), used when neither sslcrl nor sslcrldir is set.")
	tagged(b, "~/.postgresql/postgresql.crt, ~/.postgresql/postgresql.key", "the client certificate and key (sslcert, sslkey); a key that group or others can read is refused.")
	tagged(b, strings.Join(wire.DefaultSocketDirs, ", "), "where the server's Unix socket is looked for when no host is given.")
}
