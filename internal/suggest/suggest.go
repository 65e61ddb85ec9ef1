// Package suggest finds the name a mistyped one was probably meant to be:
// the "did you mean" of a command, a flag, a config key, a connection
// keyword or a relation.
package suggest

import "strings"

// Nearest returns the candidate closest to word, "" when none is close
// (see Close), or the only candidate word is a prefix of. Ties go to the
// first candidate.
func Nearest(word string, candidates []string) string {
	if word == "" {
		return ""
	}
	best, bestD := "", -1
	var prefixed []string
	for _, c := range candidates {
		if c == word {
			return ""
		}
		if strings.HasPrefix(c, word) {
			prefixed = append(prefixed, c)
		}
		if d, ok := Close(word, c); ok && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}

// Close returns how many edits candidate is from word, letter case
// aside, and whether that is close enough to suggest it for word: within
// two edits, one for words of four letters or fewer.
func Close(word, candidate string) (edits int, ok bool) {
	limit := 2
	if len(word) <= 4 {
		limit = 1
	}
	d := distance(strings.ToLower(word), strings.ToLower(candidate))
	return d, word != "" && d <= limit
}

// distance is the Damerau–Levenshtein (optimal string alignment) distance
// of a and b, in bytes: insertions, deletions, substitutions and
// transpositions of neighbours each count one.
func distance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
