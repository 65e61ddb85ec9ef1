package pgtest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// fakeBinDir creates root/version/bin holding executable stand-ins for
// the named programs and returns its path.
func fakeBinDir(t *testing.T, root, version string, programs ...string) string {
	t.Helper()
	dir := filepath.Join(root, version, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range programs {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFindBinDir(t *testing.T) {
	root := t.TempDir()
	empty := t.TempDir()
	full := fakeBinDir(t, root, "full", "initdb", "postgres", "psql")
	client := fakeBinDir(t, root, "client", "psql", "pg_config")
	v96 := fakeBinDir(t, root, "9.6", "initdb", "postgres")
	v10 := fakeBinDir(t, root, "10", "initdb", "postgres")
	v12 := fakeBinDir(t, root, "12", "initdb") // no postgres: not a server dir
	link := filepath.Join(t.TempDir(), "initdb")
	if err := os.Symlink(filepath.Join(full, "initdb"), link); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		env       map[string]string
		path      map[string]string
		pgConfig  string
		globbed   []string
		want      string
		wantNoPG  bool
		wantInErr string
	}{
		{
			name:      "PG_BINDIR empty dir is authoritative",
			env:       map[string]string{"PG_BINDIR": empty},
			path:      map[string]string{"pg_config": "/x/pg_config"},
			pgConfig:  full,
			wantNoPG:  true,
			wantInErr: "apt-get install postgresql",
		},
		{
			name:     "PG_BINDIR wins over pg_config",
			env:      map[string]string{"PG_BINDIR": v10},
			path:     map[string]string{"pg_config": "/x/pg_config"},
			pgConfig: full,
			want:     v10,
		},
		{
			name:     "pg_config --bindir",
			path:     map[string]string{"pg_config": "/x/pg_config", "initdb": link},
			pgConfig: v96,
			want:     v96,
		},
		{
			name:     "client-only pg_config falls through to initdb symlink on PATH",
			path:     map[string]string{"pg_config": "/x/pg_config", "initdb": link},
			pgConfig: client,
			globbed:  []string{v10},
			want:     full,
		},
		{
			name:    "highest numeric version with both programs",
			globbed: []string{v96, v12, v10},
			want:    v10,
		},
		{
			name:      "nothing anywhere",
			globbed:   []string{v12},
			wantNoPG:  true,
			wantInErr: "PG_BINDIR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pgtest.FindBinDir(tt.env, tt.path, tt.pgConfig, tt.globbed)
			if tt.wantNoPG {
				if !errors.Is(err, pgtest.ErrNoPostgres) {
					t.Fatalf("FindBinDir() = %q, %v; want an error wrapping ErrNoPostgres", got, err)
				}
				if !strings.Contains(err.Error(), tt.wantInErr) {
					t.Errorf("error %q does not mention %q", err, tt.wantInErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("FindBinDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestFindPsql(t *testing.T) {
	root := t.TempDir()
	withPsql := fakeBinDir(t, root, "with-psql", "initdb", "postgres", "psql")
	serverOnly := fakeBinDir(t, root, "server-only", "initdb", "postgres")
	v13 := fakeBinDir(t, root, "13", "psql")
	v15 := fakeBinDir(t, root, "15", "psql")
	v16 := fakeBinDir(t, root, "16", "initdb") // no client
	plain := filepath.Join(fakeBinDir(t, root, "usr", "psql"), "psql")
	wrapper := filepath.Join(fakeBinDir(t, root, "share", "pg_wrapper"), "pg_wrapper")
	wrapped := filepath.Join(t.TempDir(), "psql")
	if err := os.Symlink(wrapper, wrapped); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		binDir   string
		path     map[string]string
		globbed  []string
		want     string
		wantNoPG bool
	}{
		{"the server directory's own", withPsql, map[string]string{"psql": plain}, []string{v15}, filepath.Join(withPsql, "psql"), false},
		{"a plain psql on PATH", serverOnly, map[string]string{"psql": plain}, []string{v15}, plain, false},
		{"pg_wrapper gives way to the newest Debian client", serverOnly, map[string]string{"psql": wrapped},
			[]string{v13, v16, v15}, filepath.Join(v15, "psql"), false},
		{"pg_wrapper without a Debian client", serverOnly, map[string]string{"psql": wrapped}, []string{v16}, wrapped, false},
		{"no psql anywhere", serverOnly, nil, []string{v15}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pgtest.FindPsql(tt.binDir, tt.path, tt.globbed)
			if tt.wantNoPG {
				if !errors.Is(err, pgtest.ErrNoPostgres) {
					t.Fatalf("FindPsql() = %q, %v; want an error wrapping ErrNoPostgres", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("FindPsql() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestStartWithoutPostgres(t *testing.T) {
	t.Setenv("PG_BINDIR", t.TempDir())
	s, err := pgtest.Start(context.Background(), pgtest.Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("Start succeeded with PG_BINDIR pointing to an empty directory")
	}
	if !errors.Is(err, pgtest.ErrNoPostgres) {
		t.Fatalf("Start error %v does not wrap ErrNoPostgres", err)
	}
	if !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("Start error %q lacks the install hint", err)
	}
}
