package pgtest

import (
	"os/exec"
	"path/filepath"
)

// FindBinDir runs the binary finder against a fake environment: env holds
// the environment variables, path maps command names to their location on
// PATH, pgConfigBindir is what pg_config --bindir prints and globbed is
// what the /usr/lib/postgresql/*/bin pattern matches.
func FindBinDir(env, path map[string]string, pgConfigBindir string, globbed []string) (string, error) {
	return fakeFinder(env, path, pgConfigBindir, globbed).binDir()
}

// FindPsql runs the psql finder for the server directory binDir against
// a fake PATH (path) and /usr/lib/postgresql/*/bin (globbed).
func FindPsql(binDir string, path map[string]string, globbed []string) (string, error) {
	return fakeFinder(nil, path, "", globbed).psqlPath(binDir)
}

// fakeFinder returns a finder that consults the fakes of FindBinDir.
func fakeFinder(env, path map[string]string, pgConfigBindir string, globbed []string) finder {
	return finder{
		getenv: func(k string) string { return env[k] },
		lookPath: func(name string) (string, error) {
			if p, ok := path[name]; ok {
				return p, nil
			}
			return "", exec.ErrNotFound
		},
		output: func(string, ...string) (string, error) {
			return pgConfigBindir + "\n", nil
		},
		glob:         func(string) ([]string, error) { return globbed, nil },
		evalSymlinks: filepath.EvalSymlinks,
	}
}

// KillPooler kills p's process and waits for it to exit, as a crash
// would end it.
func KillPooler(p *Pooler) {
	_ = p.cmd.Process.Kill()
	<-p.exited
}
