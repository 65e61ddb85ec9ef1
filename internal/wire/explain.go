// The planner's estimate of a statement's rows, for a progress display:
// EXPLAIN (FORMAT JSON) of the same statement, in the same transaction and
// the same pipeline, after its Describe (documentation: EXPLAIN; 55.2.3
// Extended Query). It uses the unnamed statement, so that nothing is left
// prepared on the server whatever happens (a pooler may hand the session to
// another client); the stream parses its statement again with its Bind
// (stream.go, sendStatement).

package wire

import (
	"encoding/json"
	"fmt"
)

// explainPrefix is put before the statement.
const explainPrefix = "EXPLAIN (FORMAT JSON) "

// planRows reads the top plan node's row estimate from EXPLAIN's JSON.
func planRows(text []byte) (int64, error) {
	rows, _, err := planSize(text)
	return rows, err
}

// planSize reads the top plan node's estimates from EXPLAIN's JSON: its
// rows and their average width in bytes.
func planSize(text []byte) (rows, width int64, err error) {
	var out []struct {
		Plan struct {
			Rows  *float64 `json:"Plan Rows"`
			Width float64  `json:"Plan Width"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(text, &out); err != nil || len(out) == 0 || out[0].Plan.Rows == nil {
		return 0, 0, &ProtocolError{Msg: fmt.Sprintf("EXPLAIN (FORMAT JSON) returned no plan rows: %.200q", text)}
	}
	// The planner's estimates are well inside int64; a reply that says
	// otherwise is clamped rather than converted (Go leaves a float64
	// beyond int64 undefined).
	return clampEstimate(*out[0].Plan.Rows), clampEstimate(out[0].Plan.Width), nil
}

func clampEstimate(f float64) int64 { return int64(min(max(f, 0), 1<<62)) }

// PlanSize reads the top plan node's row and width estimates from the text
// of EXPLAIN (FORMAT JSON).
func PlanSize(text []byte) (rows, width int64, err error) { return planSize(text) }
