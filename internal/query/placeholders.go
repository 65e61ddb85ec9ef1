package query

import "strings"

// MaxPlaceholder returns the highest $n that a fragment of user SQL names
// outside quoted literals, quoted identifiers and comments; 0 when none.
func MaxPlaceholder(s string) int {
	most := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '-' && strings.HasPrefix(s[i:], "--"),
			c == '/' && strings.HasPrefix(s[i:], "/*"),
			c == '\'' || c == '"':
			i, _ = skipToken(s, i)
			continue
		case c == '$':
			if n, ok := skipDollar(s, i); ok {
				i = n
				continue
			}
			j, n := i+1, 0
			for j < len(s) && s[j] >= '0' && s[j] <= '9' && n < 1<<20 {
				n = n*10 + int(s[j]-'0')
				j++
			}
			most = max(most, n)
			i = max(j, i+1)
			continue
		}
		i++
	}
	return most
}

// HasOrdinal reports whether an ORDER BY list has an item that is a
// column's position (ORDER BY 1): it names whatever the select list holds
// there.
func HasOrdinal(orderBy string) bool {
	for _, item := range splitList(orderBy) {
		ws := itemWords(item)
		if len(ws) > 0 && !ws[0].quoted && strings.Trim(ws[0].text, "0123456789") == "" {
			return true
		}
	}
	return false
}
