package wire_test

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// TestRequirePeer checks requirepeer against the real server's socket,
// which the server's own (unprivileged) user owns.
func TestRequirePeer(t *testing.T) {
	srv := pgtest.Require(t)
	fi, err := os.Stat(filepath.Join(srv.ClientSocketDir(), ".s.PGSQL."+strconv.Itoa(srv.ClientPort())))
	if err != nil {
		t.Fatal(err)
	}
	owner := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid))
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	ok := config(t, srv.ConnString(pgtest.RoleTrust, false)+" requirepeer="+owner)
	if _, err := stream(t, ok, "SELECT data FROM v_user LIMIT 1"); err != nil {
		t.Errorf("requirepeer=%s: %v", owner, err)
	}
	bad := config(t, srv.ConnString(pgtest.RoleTrust, false)+" requirepeer=somebody-else")
	_, err = stream(t, bad, "SELECT data FROM v_user LIMIT 1")
	want := fmt.Sprintf(`requirepeer specifies "somebody-else", but actual peer user name is %q`, owner)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
