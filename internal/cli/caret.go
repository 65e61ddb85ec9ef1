package cli

import (
	"fmt"
	"strings"

	"github.com/fraiseql/fraise/internal/query"
)

// partFlags names the flag each part of the statement's user SQL comes
// from.
var partFlags = map[query.Part]string{
	query.PartWhere:   "--where",
	query.PartOrderBy: "--order-by",
}

// partFlag names the flag the part of the statement came from.
func partFlag(p query.Part) string {
	if f, ok := partFlags[p]; ok {
		return f
	}
	return p.String()
}

// fragmentCaret renders the line of the user's fragment that holds rune
// offset off, after the flag it came from, with a caret under it.
func fragmentCaret(f query.Fragment, off int) string {
	return caret(partFlag(f.Part), f.Text, off, "  ")
}

// caret renders the line of text, given with flag, that holds rune offset
// off, with a caret under that character, indented by indent:
//
//	--where data->>'x' =! 'y'
//	                   ^
//
// A tab before the caret stays a tab, so that the caret lines up as the
// terminal shows the line.
func caret(flag, text string, off int, indent string) string {
	runes := []rune(text)
	if off > len(runes) {
		off = len(runes)
	}
	lineStart := 0
	for i := 0; i < off; i++ {
		if runes[i] == '\n' {
			lineStart = i + 1
		}
	}
	lineEnd := len(runes)
	for i := off; i < len(runes); i++ {
		if runes[i] == '\n' {
			lineEnd = i
			break
		}
	}
	line := strings.TrimRight(string(runes[lineStart:lineEnd]), "\r")
	pad := make([]rune, 0, off-lineStart)
	for _, r := range runes[lineStart:off] {
		if r == '\t' {
			pad = append(pad, '\t')
		} else {
			pad = append(pad, ' ')
		}
	}
	return fmt.Sprintf("%s%s %s\n%s%s %s^", indent, flag, line, indent, strings.Repeat(" ", len(flag)), string(pad))
}
