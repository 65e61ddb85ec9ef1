package wire

import "testing"

// TestBindParams: parameters go to Bind as text, one copy each; an empty
// string is an empty value, never SQL NULL (nil).
func TestBindParams(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params []string
	}{
		{"none", nil},
		{"text", []string{"data", "x y"}},
		{"empty is not NULL", []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Statement{Params: tc.params}.bindParams()
			if len(got) != len(tc.params) {
				t.Fatalf("%d values, want %d", len(got), len(tc.params))
			}
			for i, p := range tc.params {
				if got[i] == nil || string(got[i]) != p {
					t.Errorf("value %d = %q (nil %v), want %q", i, got[i], got[i] == nil, p)
				}
			}
		})
	}
}
