package cli

import (
	"testing"

	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
)

// TestResumeIdentityOnJQError: --on-jq-error in any case is the same
// command to --resume, and a value in lower case keeps the identity that
// earlier versions wrote into their manifests (the digests pinned here, as
// computed before --on-jq-error took any case), so that their runs still
// resume.
func TestResumeIdentityOnJQError(t *testing.T) {
	hash := func(onError string) string {
		s := &settings{vals: map[string]setting{
			"jq":          {value: ".id", from: fromFlag},
			"on-jq-error": {value: onError, from: fromFlag},
		}}
		o := &streamOptions{
			spec: query.Spec{Relation: query.Relation{Name: "v_user"}, Column: "data", OrderBy: "id"},
			jq:   &jqSettings{},
			out:  outputSettings{format: "ndjson"},
			conn: &wire.Config{Database: "fraise_test"},
		}
		return resumeIdentity(s, o).Hash
	}
	pinned := map[string]string{
		"skip": "8717a32295109f5809a87b6f47393d7e81fa11a9af323f81a11806ffe0c151e7",
		"fail": "f0a13d219ddf1daa58a54ca7c7a42593d0602e2bf0b1b8100a1c13c3c57c2c8f",
	}
	for v, want := range pinned {
		if got := hash(v); got != want {
			t.Errorf("--on-jq-error %s: identity %s, want %s as before", v, got, want)
		}
	}
	for _, v := range []string{"SKIP", "Skip"} {
		if got := hash(v); got != pinned["skip"] {
			t.Errorf("--on-jq-error %s: identity %s, want %s as for skip", v, got, pinned["skip"])
		}
	}
}
