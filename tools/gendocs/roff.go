// Escaping: for the Markdown that cobra/doc renders with go-md2man, and for
// the roff that gendocs writes itself (groff(7): escapes, control lines).

package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// markdownSpecial are the characters Markdown may read as markup; a
// backslash before any of them makes it literal (blackfriday's escapes).
const markdownSpecial = "\\`*_{}[]<>#+-.!|&~"

// markdownEscape makes s literal text in Markdown.
func markdownEscape(s string) string { return markdownEscapeExcept(s, "") }

// markdownEscapeExcept makes s literal text in Markdown, except for the
// characters in keep.
func markdownEscapeExcept(s, keep string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(markdownSpecial, r) && !strings.ContainsRune(keep, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// markdownText turns a command's help text into Markdown that renders as
// written: blank lines separate paragraphs, which are filled; lines
// indented by two spaces or more (commands, SQL) stay as they are, in an
// example block.
func markdownText(s string) string {
	var b strings.Builder
	var block []string // indented lines not written yet
	flush := func() {
		if len(block) == 0 {
			return
		}
		b.WriteString("\n```\n" + strings.Join(dedent(block), "\n") + "\n```\n\n")
		block = nil
	}
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "  ") && strings.TrimSpace(line) != "":
			block = append(block, line)
		case strings.TrimSpace(line) == "":
			flush()
			b.WriteString("\n")
		default:
			flush()
			b.WriteString(markdownEscape(line) + "\n")
		}
	}
	flush()
	return strings.TrimRight(b.String(), "\n")
}

// dedent removes the indentation the lines share.
func dedent(lines []string) []string {
	common := -1
	for _, l := range lines {
		n := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l[common:]
	}
	return out
}

// roffText escapes s for a roff text line: backslashes print as
// themselves, hyphens as the ASCII minus that options are typed with, and
// no line starts with a control character (a dot or an apostrophe).
func roffText(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// asciiRoff writes every character outside ASCII as a groff escape
// (\[u2026] for "…"), so that the page renders alike whatever encoding man
// assumes for it.
func asciiRoff(page []byte) []byte {
	var b strings.Builder
	for s := string(page); s != ""; {
		r, n := utf8.DecodeRuneInString(s)
		if r < utf8.RuneSelf {
			b.WriteByte(s[0])
		} else {
			fmt.Fprintf(&b, `\[u%04X]`, r)
		}
		s = s[n:]
	}
	return []byte(b.String())
}
