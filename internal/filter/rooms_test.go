package filter

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Sizes a newcomer can read at once: a file of the package under
// maxFileLines, a function under maxFuncLines (declarative tables are
// variables, not functions, and are not counted).
const (
	maxFileLines = 500
	maxFuncLines = 80
)

// TestRoomsStaySmall: every file of the package (tests aside) and every
// function in it stays under the sizes above, so that the package stays
// split by concern.
func TestRoomsStaySmall(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(src), "\n"); n > maxFileLines {
			t.Errorf("%s has %d lines, more than %d: split it by concern into files named after what they hold", name, n, maxFileLines)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			from, to := fset.Position(fd.Pos()), fset.Position(fd.End())
			if n := to.Line - from.Line + 1; n > maxFuncLines {
				t.Errorf("%s: %s has %d lines, more than %d: split it into steps with names", from, fd.Name.Name, n, maxFuncLines)
			}
		}
	}
}
