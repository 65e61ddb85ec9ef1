// Package cli is fraise's command line: cobra commands (one file each),
// viper binding of flags and FRAISE_* environment variables, the error
// classes (errclass.go: how each is recognised, its exit code and its
// advice), and the one place where errors are printed (render.go, with a
// caret under the flag's text where the server or jq points: caret.go).
//
// Nothing below this package writes to the process's standard streams: they
// are handed down as io.Writers.
package cli
