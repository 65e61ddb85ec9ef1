package rooms

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Sizes a newcomer can read at once.
const (
	maxFileLines = 500
	maxFuncLines = 80
)

// roots are the trees whose rooms are kept small, from this directory.
var roots = []string{"..", "../../cmd"}

// TestRoomsStaySmall: every file of internal/ and cmd/ (tests aside) and
// every function in them stays under the sizes above, so that the code
// stays split by concern.
func TestRoomsStaySmall(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			files++
			checkFile(t, fset, path)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 100 {
		t.Fatalf("found %d Go files under %v: the walk is looking in the wrong place", files, roots)
	}
}

// checkFile checks one file's length and its functions'.
func checkFile(t *testing.T, fset *token.FileSet, path string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), "\n"); n > maxFileLines {
		t.Errorf("%s has %d lines, more than %d: split it by concern into files named after what they hold", path, n, maxFileLines)
	}
	f, err := parser.ParseFile(fset, path, src, 0)
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
