// The planner's estimate of a statement's rows, for a progress display:
// EXPLAIN (FORMAT JSON) of the same statement, in the same transaction,
// once the statement has been checked (documentation: EXPLAIN; 55.2.3
// Extended Query). It uses the unnamed statement, so that nothing is left
// prepared on the server whatever happens (a pooler may hand the session to
// another client); the stream parses its statement again with its Bind.

package wire

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
)

// explainPrefix is put before the statement.
const explainPrefix = "EXPLAIN (FORMAT JSON) "

// explain returns the planner's estimate of the rows st returns. st has
// been prepared already, so EXPLAIN cannot fail on its text.
func (c *Conn) explain(_ context.Context, st Statement) (int64, error) {
	params := make([][]byte, len(st.Params))
	for i, p := range st.Params {
		params[i] = []byte(p)
	}
	c.fe.SendParse(&pgproto3.Parse{Query: explainPrefix + st.SQL})
	c.fe.SendBind(&pgproto3.Bind{Parameters: params})
	c.fe.SendExecute(&pgproto3.Execute{})
	c.fe.SendSync(&pgproto3.Sync{})
	if err := c.fe.Flush(); err != nil {
		return 0, c.lost(err)
	}
	var pgErr *PgError
	var plan []byte
	for {
		msg, err := c.rd.receive()
		if err != nil {
			return 0, c.lostAfter(pgErr, "explain", err)
		}
		switch m := msg.(type) {
		case *pgproto3.ParseComplete, *pgproto3.BindComplete, *pgproto3.CommandComplete:
		case *pgproto3.DataRow:
			for _, v := range m.Values {
				plan = append(plan, v...)
				plan = append(plan, '\n')
			}
		case *pgproto3.ErrorResponse:
			pgErr = pgErrorFrom(m)
			if pgErr.Position > len(explainPrefix) {
				// A position in the statement, not in EXPLAIN's words
				// (the prefix is ASCII: bytes are characters).
				pgErr.Position -= len(explainPrefix)
			}
		case *pgproto3.ReadyForQuery:
			if pgErr != nil {
				return 0, &QueryError{Step: "explain", Err: pgErr}
			}
			return planRows(plan)
		default:
			if err := c.background(msg); err != nil {
				return 0, err
			}
		}
	}
}

// planRows reads the top plan node's row estimate from EXPLAIN's JSON.
func planRows(text []byte) (int64, error) {
	var out []struct {
		Plan struct {
			Rows *float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(text, &out); err != nil || len(out) == 0 || out[0].Plan.Rows == nil {
		return 0, &ProtocolError{Msg: fmt.Sprintf("EXPLAIN (FORMAT JSON) returned no plan rows: %.200q", text)}
	}
	// The planner's estimate is at least 1 and well inside int64; a reply
	// that says otherwise is clamped rather than converted (Go leaves a
	// float64 beyond int64 undefined).
	return int64(min(max(*out[0].Plan.Rows, 0), 1<<62)), nil
}
