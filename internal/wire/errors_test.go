package wire_test

import (
	"fmt"
	"testing"

	"github.com/fraiseql/fraise/internal/wire"
)

// TestQueryStepString: every step of a QueryError names itself with the
// text messages and logs have always given it.
func TestQueryStepString(t *testing.T) {
	for _, tc := range []struct {
		step wire.QueryStep
		want string
	}{
		{wire.StepBegin, "begin"},
		{wire.StepPrepare, "prepare"},
		{wire.StepDescribe, "describe"},
		{wire.StepExplain, "explain"},
		{wire.StepExecute, "execute"},
		{wire.StepRollback, "rollback"},
		{wire.StepLookup, "lookup"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.step.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if got := fmt.Sprintf("%v %s", tc.step, tc.step); got != tc.want+" "+tc.want {
				t.Errorf("formatted as %q, want %q twice", got, tc.want)
			}
		})
	}
}
