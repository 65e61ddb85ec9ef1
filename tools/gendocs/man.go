// Man pages: cobra/doc renders each command's name, synopsis, description
// and options (through go-md2man); gendocs escapes the texts it hands over,
// lays the options out as tagged paragraphs, adds EXIT STATUS, ENVIRONMENT,
// FILES and EXAMPLES, and keeps the roff ASCII (man-pages(7), groff_man(7)).

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// manSection is the manual section of every page: user commands.
const manSection = "1"

// writeManPages replaces the *.1 files of dir with a page for root and for
// every command under it that a user can run (not hidden, not help).
func writeManPages(root *cobra.Command, dir string, date time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*."+manSection))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	root.DisableAutoGenTag = true // no "Auto generated" history with a date
	cmds := manCommands(root)
	examples := prepare(cmds)
	for _, c := range cmds {
		page, err := manPage(c, examples[c], date)
		if err != nil {
			return fmt.Errorf("%s: %w", c.CommandPath(), err)
		}
		if err := os.WriteFile(filepath.Join(dir, manName(c)), page, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// prepare escapes the texts cobra hands to its Markdown renderer, so that
// "<column>" or "FRAISE_<FLAG>" come out as written and indented lines stay
// lines, each once (a persistent flag appears on several pages). It takes
// the examples away from cobra, for gendocs' own EXAMPLES section, placed
// as man-pages(7) orders the sections; the first page, the overview, gets
// the examples of all the others, those of the commands that connect
// first.
func prepare(cmds []*cobra.Command) map[*cobra.Command]string {
	examples := make(map[*cobra.Command]string, len(cmds))
	var all, others []string // the examples of the commands that connect first
	seen := make(map[*pflag.Flag]bool)
	for _, c := range cmds {
		if c.Example != "" {
			examples[c] = strings.TrimRight(c.Example, "\n")
			if connects(c) {
				all = append(all, examples[c])
			} else {
				others = append(others, examples[c])
			}
		}
		c.Example = ""
		c.Long = markdownText(c.Long)
		c.Short = markdownEscape(c.Short)
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if !seen[f] {
					seen[f] = true
					// Backquotes mark the value's name (pflag); they
					// come out in bold.
					f.Usage = markdownEscapeExcept(f.Usage, "`")
				}
			})
		}
	}
	if len(cmds) > 0 && examples[cmds[0]] == "" {
		examples[cmds[0]] = strings.Join(append(all, others...), "\n")
	}
	return examples
}

// manCommands returns cmd and the commands below it that get a page, in the
// order cobra lists them (by name).
func manCommands(cmd *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{cmd}
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() && !c.IsAdditionalHelpTopicCommand() {
			out = append(out, manCommands(c)...)
		}
	}
	return out
}

// manName is the page's file name: "fraise-stream.1".
func manName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-") + "." + manSection
}

// manPage renders the page of c, prepared, with its examples.
func manPage(c *cobra.Command, examples string, date time.Time) ([]byte, error) {
	var buf bytes.Buffer
	hdr := &doc.GenManHeader{Section: manSection, Date: &date, Source: "fraise", Manual: "User Commands"}
	if err := doc.GenMan(c, hdr, &buf); err != nil {
		return nil, err
	}
	page := tidyRoff(buf.Bytes())
	extra := sections(c, examples)
	if i := bytes.Index(page, []byte("\n.SH SEE ALSO\n")); i >= 0 {
		page = append(page[:i+1:i+1], append(extra, page[i+1:]...)...)
	} else {
		page = append(page, extra...)
	}
	return asciiRoff(page), nil
}

var (
	// optionPara is cobra's layout of one option: the flag in bold, then
	// its usage on a line of its own after a tab, as a paragraph.
	optionPara = regexp.MustCompile(`(?m)^(?:\.PP\n)?(\\fB-.*)\n\t(.*)$`)
)

// tidyRoff improves go-md2man's output: no hyphenation (.nh after .TH,
// which would turn it back on, and HY 0 for .EE, which restores HY),
// options as tagged paragraphs (.TP), examples in the text as indented
// paragraphs of their own, and no blank lines outside them (a blank line
// is a .sp in roff).
func tidyRoff(page []byte) []byte {
	s := string(page)
	s = strings.Replace(s, ".nh\n", "", 1)
	if i := strings.Index(s, "\n"); strings.HasPrefix(s, ".TH ") && i >= 0 {
		s = s[:i+1] + ".nh\n.nr HY 0\n" + s[i+1:]
	}
	s = optionPara.ReplaceAllString(s, ".TP\n$1\n$2")
	var out strings.Builder
	inExample := false
	for _, line := range strings.SplitAfter(s, "\n") {
		switch {
		case line == ".EX\n":
			inExample = true
			line = ".PP\n.RS 4\n" + line
		case line == ".EE\n":
			inExample = false
			line += ".RE\n"
		case strings.TrimSpace(line) == "" && !inExample:
			continue
		}
		out.WriteString(line)
	}
	return []byte(out.String())
}
