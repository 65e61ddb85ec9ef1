package cli

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestCompareIntegers: integers compared in their text form order as
// the numbers do, at the ends of int8 and around zero.
func TestCompareIntegers(t *testing.T) {
	values := []int64{0, 1, -1, 9, 10, -9, -10, 99, 100, -100, 1 << 31, -1 << 31, 1<<63 - 1, -1 << 63}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		values = append(values, r.Int64()>>r.IntN(63))
		values = append(values, -r.Int64()>>r.IntN(63))
	}
	for _, a := range values {
		for _, b := range values {
			want := 0
			if a < b {
				want = -1
			} else if a > b {
				want = 1
			}
			if got := compareIntegers([]byte(strconv.FormatInt(a, 10)), []byte(strconv.FormatInt(b, 10))); got != want {
				t.Fatalf("compareIntegers(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
}

// TestKeyKinds: the client checks only keys whose equal values have
// equal texts; text only when every collation is deterministic.
func TestKeyKinds(t *testing.T) {
	for _, tc := range []struct {
		types         []string
		deterministic bool
		want          []keyKind
	}{
		{[]string{"integer"}, true, []keyKind{keyInteger}},
		{[]string{"bigint", "uuid"}, false, []keyKind{keyInteger, keyEqual}},
		{[]string{"text", "timestamp with time zone"}, true, []keyKind{keyEqual, keyEqual}},
		{[]string{"text"}, false, nil},
		{[]string{"integer", "numeric"}, true, nil},
		{[]string{"double precision"}, true, nil},
		{[]string{"citext"}, true, nil},
		{[]string{"interval"}, true, nil},
	} {
		got := keyKinds(tc.types, tc.deterministic)
		if len(got) != len(tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("keyKinds(%q, %v) = %v, want %v", tc.types, tc.deterministic, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("keyKinds(%q, %v) = %v, want %v", tc.types, tc.deterministic, got, tc.want)
			}
		}
	}
}
