// Package cli is fraise's command line: cobra commands (one file each),
// viper binding of flags and FRAISE_* environment variables, the exit-code
// table, and the one place where errors are printed.
//
// Nothing below this package writes to the process's standard streams: they
// are handed down as io.Writers.
package cli
