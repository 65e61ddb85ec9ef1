package query_test

import (
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

// TestComment: a note becomes one comment that cannot end early, nest, or
// hold a control character, whatever it says.
func TestComment(t *testing.T) {
	for _, s := range []string{"plain", "a */ DROP TABLE x; /*", "/*/", "**//**", "x\ny\r\x1b[31m\x00z", "\u0085é"} {
		c := query.Comment(s)
		inner := strings.TrimSuffix(strings.TrimPrefix(c, "/* "), " */")
		if !strings.HasPrefix(c, "/* ") || !strings.HasSuffix(c, " */") || strings.Contains(inner, "*/") || strings.Contains(inner, "/*") {
			t.Errorf("Comment(%q) = %q: ends early or nests", s, c)
		}
		for _, r := range c {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Errorf("Comment(%q) = %q holds control character %U", s, c, r)
			}
		}
	}
}
