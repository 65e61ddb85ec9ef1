package scram_test

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/fraiseql/fraise/internal/wire/scram"
)

// fuzzIterationLimit keeps fuzzed exchanges fast; parsing is fuzzed with
// every count, the key derivation only with small ones.
const fuzzIterationLimit = 64

func FuzzServerFirst(f *testing.F) {
	f.Add([]byte("r=" + countingNonce + "srv,s=c2FsdA==,i=4"))
	f.Add([]byte("r=" + countingNonce + "srv,s=c2FsdA==,i=4,x=ext"))
	f.Add([]byte(rfcServerFirst))
	f.Add([]byte("m=x,r=" + countingNonce + "srv,s=c2FsdA==,i=4"))
	f.Add([]byte("r=" + countingNonce + ",s=,i=0"))
	f.Add([]byte(""))
	f.Add([]byte(",,,"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		nonce, salt, iter, err := scram.ParseServerFirst(msg, countingNonce)
		if err != nil {
			if !errors.Is(err, scram.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(nonce) <= len(countingNonce) || nonce[:len(countingNonce)] != countingNonce {
			t.Fatalf("accepted nonce %q", nonce)
		}
		if len(salt) == 0 || iter < 1 || iter > scram.MaxIterations {
			t.Fatalf("accepted salt %x, iterations %d", salt, iter)
		}
		if iter > fuzzIterationLimit {
			return
		}
		c := newTestClient(t, secret, scram.ChannelBinding{})
		c.ClientFirst()
		final, err := c.ClientFinal(msg)
		if err != nil {
			t.Fatalf("ClientFinal rejected what the parser accepted: %v", err)
		}
		if !utf8.Valid(final) {
			t.Fatalf("client-final %q is not UTF-8", final)
		}
		_ = c.Verify(msg)
		if c.Verified() {
			t.Fatal("verified a server-first message as server-final")
		}
	})
}

func FuzzServerFinal(f *testing.F) {
	f.Add([]byte(rfcServerFinal))
	f.Add([]byte("e=invalid-proof"))
	f.Add([]byte("v=AAAA,x=1"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, msg []byte) {
		c := newTestClient(t, secret, scram.ChannelBinding{})
		c.ClientFirst()
		if _, err := c.ClientFinal([]byte("r=" + countingNonce + "srv,s=c2FsdA==,i=1")); err != nil {
			t.Fatal(err)
		}
		err := c.Verify(msg)
		if (err == nil) != c.Verified() {
			t.Fatalf("Verify = %v but Verified = %v", err, c.Verified())
		}
		if err != nil && !errors.Is(err, scram.ErrMalformed) &&
			!errors.Is(err, scram.ErrServerSignature) && !errors.Is(err, scram.ErrServerRejected) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

func FuzzSASLprep(f *testing.F) {
	for _, s := range []string{
		"password", "pass\u00A0word", "I\u00ADX", "\u2168", "\u00BC", "\u05D0a",
		"\u0627\u0031", "a\u0340", "\xff", "\u00AD", "\u200B", "\U0001F600",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := scram.SASLprep(s)
		if out != scram.SASLprep(s) {
			t.Fatalf("SASLprep(%+q) is not deterministic", s)
		}
		if !utf8.ValidString(s) {
			if out != s {
				t.Fatalf("SASLprep(%+q) = %+q, want the invalid input unchanged", s, out)
			}
			return
		}
		if !utf8.ValidString(out) {
			t.Fatalf("SASLprep(%+q) = %+q is not valid UTF-8", s, out)
		}
		if out == "" && s != "" {
			t.Fatalf("SASLprep(%+q) is empty", s)
		}
		ascii := true
		for i := 0; i < len(s); i++ {
			ascii = ascii && s[i] < utf8.RuneSelf
		}
		if ascii && out != s {
			t.Fatalf("SASLprep(%+q) = %+q changed an ASCII string", s, out)
		}
	})
}
