// target_session_attrs: whether a session is the kind asked for, decided as
// libpq does from the in_hot_standby and default_transaction_read_only
// parameters the server reports (PostgreSQL 14+), or by asking older
// servers.

package wire

import (
	"errors"
	"fmt"
)

// checkTarget reports whether the session suits want (a
// target_session_attrs value); an error means try the next host.
func (c *Conn) checkTarget(want string) error {
	fail := func(msg string) error {
		return &ConnectError{Host: c.host.String(), Addr: c.addr, User: c.cfg.User, Step: StepCheck, Err: errors.New(msg)}
	}
	failed := func(query string, err error) error {
		return &ConnectError{Host: c.host.String(), Addr: c.addr, User: c.cfg.User, Step: StepCheck, Err: fmt.Errorf("%q failed: %w", query, err)}
	}
	switch want {
	case "read-write", "read-only":
		readOnly, err := c.readOnly()
		if err != nil {
			return failed("SHOW transaction_read_only", err)
		}
		if want == "read-write" && readOnly {
			return fail("session is read-only")
		}
		if want == "read-only" && !readOnly {
			return fail("session is not read-only")
		}
	case "primary", "standby":
		standby, err := c.inHotStandby()
		if err != nil {
			return failed("SELECT pg_is_in_recovery()", err)
		}
		if want == "primary" && standby {
			return fail("server is in hot standby mode")
		}
		if want == "standby" && !standby {
			return fail("server is not in hot standby mode")
		}
	}
	return nil
}

// readOnly reports whether the session's transactions are read-only by
// default: on a standby, or with default_transaction_read_only on.
func (c *Conn) readOnly() (bool, error) {
	dtro, ok1 := c.params["default_transaction_read_only"]
	hs, ok2 := c.params["in_hot_standby"]
	if ok1 && ok2 {
		return dtro == "on" || hs == "on", nil
	}
	v, err := c.lookup("SHOW transaction_read_only")
	return v == "on", err
}

// inHotStandby reports whether the server is a standby in recovery.
func (c *Conn) inHotStandby() (bool, error) {
	if hs, ok := c.params["in_hot_standby"]; ok {
		return hs == "on", nil
	}
	v, err := c.lookup("SELECT pg_catalog.pg_is_in_recovery()")
	return v == "t", err
}
