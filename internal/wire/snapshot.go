// One snapshot for several sessions (documentation 9.28.5, Snapshot
// Synchronization Functions): a leader's REPEATABLE READ transaction
// exports its snapshot with pg_export_snapshot() and stays open; each
// other session imports it with SET TRANSACTION SNAPSHOT as the first
// statement of its own transaction (Statement.Snapshot), and so sees
// exactly the rows the leader sees, whatever is committed meanwhile. The
// identifier is valid only while the leader's transaction lasts: the
// leader is released (ROLLBACK) only once every import is done.

package wire

import (
	"context"
	"errors"
	"fmt"
)

// SnapshotID is the identifier pg_export_snapshot() returns, such as
// "00000003-0000001B-1": hexadecimal digits and dashes only, checked as it
// arrives, so that it can be written into SET TRANSACTION SNAPSHOT.
type SnapshotID string

// validSnapshotID reports whether s has the shape of a snapshot
// identifier: hexadecimal digits and dashes, 1 to 64 of them.
func validSnapshotID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f' || c == '-') {
			return false
		}
	}
	return true
}

// Snapshot is a leader's open transaction whose snapshot other sessions
// import. Its connection runs nothing else until Release.
type Snapshot struct {
	c  *Conn
	st Statement // the limits every statement of the leader runs with
	// ID is the exported snapshot's identifier, for Statement.Snapshot.
	ID SnapshotID
}

// ExportSnapshot opens a READ ONLY REPEATABLE READ transaction on c with
// st's limits (st.SQL is not used) and exports its snapshot. The
// transaction stays open, and the snapshot importable, until Release or
// until the connection closes. A server that cannot export (a transaction
// pooler that hides the session, a server without the function) fails it
// with a *QueryError at StepExecute.
func (c *Conn) ExportSnapshot(ctx context.Context, st Statement) (*Snapshot, error) {
	st.SQL, st.Params, st.Snapshot = "SELECT pg_export_snapshot()", nil, ""
	l := c.live(ctx, st, nil)
	defer l.finish()
	if err := c.begin(l); err != nil {
		return nil, err
	}
	var id string
	err := c.extended(l, func(values [][]byte) error {
		if len(values) == 1 && values[0] != nil {
			id = string(values[0])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !validSnapshotID(id) {
		c.abort()
		return nil, &ProtocolError{Msg: fmt.Sprintf("pg_export_snapshot() returned %q, not a snapshot identifier", id)}
	}
	return &Snapshot{c: c, st: st, ID: SnapshotID(id)}, nil
}

// Query runs sql, a statement of fraise's own built around the user's
// fragments (never unchecked text), with params, inside the leader's
// transaction: it sees the exported snapshot. row is called as for
// QueryText. After an error the transaction is aborted: close the
// connection, or end it with EndTransaction (the snapshot is then gone).
func (s *Snapshot) Query(ctx context.Context, sql string, params []string, row func(values [][]byte) error) error {
	st := s.st
	st.SQL, st.Params = sql, params
	l := s.c.live(ctx, st, nil)
	defer l.finish()
	return s.c.extended(l, row)
}

// Release ends the leader's transaction with ROLLBACK: the snapshot can no
// longer be imported. Call it once every session has imported it.
func (s *Snapshot) Release(ctx context.Context) error {
	l := s.c.live(ctx, s.st, nil)
	defer l.finish()
	return s.c.rollback(l)
}

// Estimate returns the planner's estimate of the rows sql returns, with
// params, under the leader's snapshot (EXPLAIN, as a stream's
// Observer.Estimate is told), and their average width in bytes.
func (s *Snapshot) Estimate(ctx context.Context, sql string, params []string) (rows, width int64, err error) {
	plan, err := s.Plan(ctx, sql, params)
	if err != nil {
		return 0, 0, err
	}
	return planSize([]byte(plan))
}

// Plan returns the planner's plan for sql with params, under the leader's
// snapshot: EXPLAIN (FORMAT JSON)'s text. A server error's position
// points into sql, as a stream's does, not into the EXPLAIN around it.
func (s *Snapshot) Plan(ctx context.Context, sql string, params []string) (string, error) {
	var text []byte
	err := s.Query(ctx, explainPrefix+sql, params, func(values [][]byte) error {
		if len(values) > 0 {
			text = append(text, values[0]...)
		}
		return nil
	})
	var pe *PgError
	if errors.As(err, &pe) && pe.Position > len(explainPrefix) {
		pe.Position -= len(explainPrefix)
	}
	return string(text), err
}
