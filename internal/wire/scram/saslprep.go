// SASLprep as PostgreSQL applies it to SCRAM passwords.
//
// References:
//   - RFC 4013, SASLprep: Stringprep Profile for User Names and Passwords.
//   - RFC 3454, Preparation of Internationalized Strings ("stringprep").
//   - PostgreSQL, src/common/saslprep.c (pg_saslprep) and
//     src/interfaces/libpq/fe-auth-scram.c, which falls back to the raw
//     password whenever pg_saslprep does not succeed.
//   - PostgreSQL documentation, "SASL Authentication"
//     (https://www.postgresql.org/docs/current/sasl-authentication.html).

package scram

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// SASLprep prepares a password the way PostgreSQL's pg_saslprep does, with
// libpq's fallback applied: whenever the preparation does not succeed the
// input is returned unchanged. The result is the string whose bytes feed
// PBKDF2 in SCRAM; the server computed its stored verifier the same way, so
// following PostgreSQL exactly, quirks included, is what makes non-ASCII
// passwords authenticate.
//
// The steps are:
//
//  1. A pure ASCII input is returned unchanged, control characters
//     included.
//  2. An input that is not valid UTF-8 is returned unchanged.
//  3. Mapping (RFC 4013 §2.1): non-ASCII space characters (RFC 3454 table
//     C.1.2) become U+0020 and characters "commonly mapped to nothing"
//     (table B.1) are removed. C.1.2 is consulted first, so U+200B, which
//     is in both tables, becomes a space, as in PostgreSQL.
//  4. If nothing is left, the input is returned unchanged.
//  5. Prohibited output (RFC 4013 §2.3: tables C.1.2, C.2.1, C.2.2, C.3,
//     C.4, C.5, C.6, C.7, C.8, C.9) and unassigned code points (§2.5:
//     table A.1, Unicode 3.2) make the preparation fail.
//  6. Bidirectional rules (RFC 3454 §6): if any character is in table D.1
//     (RandALCat), no character may be in table D.2 (LCat) and the first
//     and last characters must both be RandALCat; otherwise it fails.
//  7. The mapped string is normalized to NFKC (RFC 4013 §2.2) and returned.
//
// Like PostgreSQL, steps 5 and 6 examine the mapped string before
// normalization rather than the normalized output that RFC 3454 §3 names.
// The two differ only for rare inputs, for example "a\u0340": U+0340 is in
// table C.8, so PostgreSQL (and this function) keep the raw password even
// though its NFKC form "à" contains nothing prohibited. Normalization uses
// the Unicode version of golang.org/x/text, as PostgreSQL uses the current
// Unicode version of its own normalization tables.
func SASLprep(s string) string {
	if isASCII(s) {
		return s
	}
	if !utf8.ValidString(s) {
		return s
	}

	mapped := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case tableC12.contains(r):
			mapped = append(mapped, ' ')
		case tableB1.contains(r):
			// Mapped to nothing.
		default:
			mapped = append(mapped, r)
		}
	}
	if len(mapped) == 0 {
		return s
	}

	for _, r := range mapped {
		if isProhibited(r) || tableA1.contains(r) {
			return s
		}
	}
	if !bidiOK(mapped) {
		return s
	}
	return norm.NFKC.String(string(mapped))
}

// isASCII reports whether s contains only bytes below 0x80.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isProhibited reports whether r is in one of the RFC 4013 §2.3 tables.
func isProhibited(r rune) bool {
	for _, t := range prohibitedOutput {
		if t.contains(r) {
			return true
		}
	}
	return false
}

// bidiOK applies the requirements 2 and 3 of RFC 3454 §6 to a non-empty
// string. (Requirement 1, prohibiting table C.8, is part of isProhibited.)
func bidiOK(rs []rune) bool {
	hasRandAL := false
	for _, r := range rs {
		if tableD1.contains(r) {
			hasRandAL = true
			break
		}
	}
	if !hasRandAL {
		return true
	}
	for _, r := range rs {
		if tableD2.contains(r) {
			return false
		}
	}
	return tableD1.contains(rs[0]) && tableD1.contains(rs[len(rs)-1])
}
