package output

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// naiveFlatten is the byte-at-a-time definition flatten must match.
func naiveFlatten(p []byte) {
	for i, c := range p {
		if c == '\n' || c == '\r' || c == '\t' {
			p[i] = ' '
		}
	}
}

// TestFlattenMatchesNaive compares the word-at-a-time flatten and
// needsFlatten with the plain loop on every single byte value at every
// position of short inputs, and on random inputs of all lengths.
func TestFlattenMatchesNaive(t *testing.T) {
	check := func(in []byte) {
		t.Helper()
		want := bytes.Clone(in)
		naiveFlatten(want)
		got := bytes.Clone(in)
		flatten(got)
		if !bytes.Equal(got, want) {
			t.Fatalf("flatten(%q) = %q, want %q", in, got, want)
		}
		if needs := !bytes.Equal(in, want); needsFlatten(in) != needs {
			t.Fatalf("needsFlatten(%q) = %v, want %v", in, !needs, needs)
		}
	}
	for n := 1; n <= 17; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				in := bytes.Repeat([]byte{'a'}, n)
				in[pos] = byte(c)
				check(in)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("\t\n\r \x00\x1f\x20\x7f\x80\xff{}\"a\\")
	for range 20000 {
		in := make([]byte, r.IntN(40))
		for i := range in {
			in[i] = alphabet[r.IntN(len(alphabet))]
		}
		check(in)
	}
}

// BenchmarkFlatten: values without TAB, LF or CR (as most are) of 200
// bytes (v_small) and 1.6 KB (v_medium), and a pretty-printed value full
// of them; each copied into place first, as WriteValue does.
func BenchmarkFlatten(b *testing.B) {
	obj := `{"id":123,"name":"user-123","tags":["a","b"]} `
	for _, bc := range []struct {
		name  string
		value []byte
	}{
		{"200B", bytes.Repeat([]byte(obj), 4)},
		{"1600B", bytes.Repeat([]byte(obj), 35)},
		{"pretty", bytes.Repeat([]byte("{\n    \"id\": 123,\n    \"name\": \"user-123\"\n}\t"), 40)},
	} {
		// words is flattenWords alone, as flatten was before issue 18.
		for _, f := range []struct {
			name string
			fn   func([]byte)
		}{{"flatten", flatten}, {"words", flattenWords}} {
			b.Run(bc.name+"/"+f.name, func(b *testing.B) {
				v := bytes.Clone(bc.value)
				b.SetBytes(int64(len(v)))
				b.ReportAllocs()
				for b.Loop() {
					copy(v, bc.value)
					f.fn(v)
				}
			})
		}
	}
}
