package wire

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrivateKeyPermissions follows libpq: a key its owner alone can read
// is fine; group access is tolerated only on a root-owned key, up to 0640.
func TestPrivateKeyPermissions(t *testing.T) {
	root := os.Geteuid() == 0 // files made by the test are owned by root then
	tests := []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true}, {0o400, true}, {0o640, root}, {0o660, false}, {0o644, false}, {0o604, false},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "k.key")
		if err := os.WriteFile(path, []byte("key"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tt.mode); err != nil {
			t.Fatal(err)
		}
		_, err := readPrivateKey(path)
		if tt.ok && err != nil {
			t.Errorf("mode %04o: %v, want accepted", tt.mode, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "has group or world access")) {
			t.Errorf("mode %04o: %v, want refused", tt.mode, err)
		}
	}
}
