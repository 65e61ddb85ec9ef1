// Package cli is fraise's command line: cobra commands (one file each),
// their settings resolved once from the command line, the FRAISE_*
// variables, the config file's profile and the defaults (resolve.go, the
// only place precedence is decided) into per-command options that the run
// functions take (stream_options.go; resolvePing, resolveViews); a run's
// life — signals, the forced exit, the output's grace and publishing
// (life.go); the error classes (errclass.go: how each is recognised, its
// exit code and its advice, with what the catalog says after a relation or
// column was not found: relation_hints.go); and the one place where
// errors are printed (render.go, with a caret under the flag's text where
// the server or jq points: caret.go). docs/architecture.md follows one row and one setting
// through it.
//
// Nothing below this package writes to the process's standard streams: they
// are handed down as io.Writers.
package cli
