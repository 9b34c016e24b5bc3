package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"mullet/command"
)

// docs/compatibility.md lists every command mullet implements and every
// error text it sends. These tests keep it from falling behind the code:
// a command registered, or an error literal added, without a line in the
// document fails them.

const compatDoc = "../docs/compatibility.md"

// readCompatDoc returns the document with Markdown table escapes undone,
// so that `SYNC\|ASYNC` in a table reads as the reply text SYNC|ASYNC.
func readCompatDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(compatDoc)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), `\|`, "|")
}

// docNames reports whether the document names the command in code
// formatting: `LPUSH`, or `CLIENT KILL` for a subcommand, alone or
// followed by arguments.
func docNames(doc, name string) bool {
	return strings.Contains(doc, "`"+name+"`") || strings.Contains(doc, "`"+name+" ")
}

func TestCompatibilityDocCommands(t *testing.T) {
	doc := readCompatDoc(t)
	for _, c := range command.Commands() {
		if name := strings.ToUpper(c.Name); !docNames(doc, name) {
			t.Errorf("%s lacks the command %s", compatDoc, name)
		}
		for _, sub := range c.Subcommands {
			if name := strings.ToUpper(strings.Replace(sub.Name, "|", " ", 1)); !docNames(doc, name) {
				t.Errorf("%s lacks the subcommand %s", compatDoc, name)
			}
		}
	}
}

// errorLiteral matches a string literal that begins an error reply: one
// of Redis's error codes, a space, then text.
var errorLiteral = regexp.MustCompile(`^(ERR|WRONGTYPE|NOAUTH|WRONGPASS|NOPERM|OOM|MISCONF|LOADING|EXECABORT|` +
	`BUSYKEY|BUSY|NOTBUSY|NOPROTO|NOSCRIPT|UNBLOCKED|DENIED|READONLY|MASTERDOWN|NOREPLICAS|` +
	`CROSSSLOT|CLUSTERDOWN|TRYAGAIN|MOVED|ASK) \S`)

func TestCompatibilityDocErrors(t *testing.T) {
	doc := readCompatDoc(t)
	texts := errorTexts(t)
	if len(texts) < 50 {
		t.Fatalf("found only %d error texts in the sources; the scan is broken", len(texts))
	}
	for _, s := range texts {
		if !strings.Contains(doc, s) {
			t.Errorf("%s lacks the error text %q", compatDoc, s)
		}
	}
}

// errorTexts collects, from the package's non-test sources, every string
// literal that starts with an error code ("ERR ...", "WRONGTYPE ..."), the
// constants named msg*, and the protocol errors (protoError literals,
// which the client sees after "ERR Protocol error: "). A literal that is
// only the start of a reply ("ERR unknown command '" + name ...) is
// checked as a prefix of the documented text.
func errorTexts(t *testing.T) []string {
	t.Helper()
	// The transport's files and the command core's.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	core, err := filepath.Glob("../command/*.go")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, core...)
	fset := token.NewFileSet()
	var out []string
	add := func(lit *ast.BasicLit, prefix string) {
		if lit == nil || lit.Kind != token.STRING {
			return
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
		}
		if s = prefix + s; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if strings.HasPrefix(id.Name, "msg") && i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							add(lit, "")
						}
					}
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "protoError" && len(n.Elts) > 0 {
					add(leftmostString(n.Elts[0]), "ERR Protocol error: ")
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil && errorLiteral.MatchString(s) {
						add(n, "")
					}
				}
			}
			return true
		})
	}
	return out
}

// leftmostString returns the string literal an expression like
// "text" + x starts with, or nil.
func leftmostString(e ast.Expr) *ast.BasicLit {
	for {
		switch x := e.(type) {
		case *ast.BasicLit:
			return x
		case *ast.BinaryExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return nil
		}
	}
}
