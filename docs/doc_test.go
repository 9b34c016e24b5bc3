// Package docs holds the tests that keep the documents in this directory
// true to the code they describe.
package docs

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	archDoc    = "architecture.md"
	modulePath = "mullet"
	moduleRoot = ".."
)

// pkgInfo is one package of the module: the project packages its non-test
// files import, relative to the module ("queue", "internal/redisc").
type pkgInfo struct {
	imports []string
}

// modulePackages reads every package of the module with go/build, as the
// go command would for this machine, skipping testdata and node_modules.
// Packages with test files only are left out: they import nothing into
// the binary.
func modulePackages(t *testing.T) map[string]pkgInfo {
	t.Helper()
	pkgs := map[string]pkgInfo{}
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != moduleRoot && (name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(p.GoFiles) == 0 {
			return nil
		}
		rel, err := filepath.Rel(moduleRoot, path)
		if err != nil {
			return err
		}
		var imports []string
		for _, imp := range p.Imports {
			if r, ok := strings.CutPrefix(imp, modulePath+"/"); ok {
				imports = append(imports, r)
			}
		}
		slices.Sort(imports)
		pkgs[filepath.ToSlash(rel)] = pkgInfo{imports: imports}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// archRow is one row of the package table.
type archRow struct {
	pkg     string
	note    string // "tests only", "tests and bench only", or ""
	imports []string
}

var (
	rowPkg  = regexp.MustCompile("^`([^`]+)`(?: \\(([^)]*)\\))?$")
	backtik = regexp.MustCompile("`([^`]+)`")
)

// archTable parses the package table of docs/architecture.md: the table
// whose header row starts with "| package | imports |".
func archTable(t *testing.T) []archRow {
	t.Helper()
	b, err := os.ReadFile(archDoc)
	if err != nil {
		t.Fatal(err)
	}
	var rows []archRow
	in := false
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "| package | imports |") {
			in = true
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 2 || strings.HasPrefix(strings.TrimSpace(cells[0]), "---") {
			continue
		}
		m := rowPkg.FindStringSubmatch(strings.TrimSpace(cells[0]))
		if m == nil {
			t.Fatalf("%s: package cell %q is not `name` or `name` (note)", archDoc, cells[0])
		}
		row := archRow{pkg: m[1], note: m[2]}
		for _, im := range backtik.FindAllStringSubmatch(cells[1], -1) {
			row.imports = append(row.imports, im[1])
		}
		slices.Sort(row.imports)
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no table whose header starts with \"| package | imports |\"", archDoc)
	}
	return rows
}

var arrowLine = regexp.MustCompile(`^(\S+)\s+──► ([^(]+?)\s*(?:\(.*)?$`)

// TestArchitectureArrows: each "pkg ──► a, b" line of the drawing under
// "## Packages and who imports whom" lists exactly what pkg imports.
func TestArchitectureArrows(t *testing.T) {
	pkgs := modulePackages(t)
	b, err := os.ReadFile(archDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "## Packages and who imports whom\n")
	if !ok {
		t.Fatalf("%s has no section \"Packages and who imports whom\"", archDoc)
	}
	_, block, ok := strings.Cut(sec, "```\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatalf("%s: no drawing in \"Packages and who imports whom\"", archDoc)
	}
	n := 0
	for line := range strings.SplitSeq(block, "\n") {
		m := arrowLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n++
		p, ok := pkgs[m[1]]
		if !ok {
			t.Errorf("%s draws arrows from %s, which is not a package of the module", archDoc, m[1])
			continue
		}
		var drawn []string
		for name := range strings.SplitSeq(m[2], ",") {
			drawn = append(drawn, strings.TrimSpace(name))
		}
		slices.Sort(drawn)
		if !slices.Equal(drawn, p.imports) {
			t.Errorf("%s draws %s ──► %q; its files import %q", archDoc, m[1], drawn, p.imports)
		}
	}
	if n == 0 {
		t.Errorf("%s: the drawing has no \"pkg ──► ...\" lines", archDoc)
	}
}

// TestArchitecturePackages: the package table of docs/architecture.md
// names every package of the module outside bench/, each with exactly the
// project packages it imports, and its "(tests only)" and "(tests and
// bench only)" notes hold: no other package's non-test files import those.
func TestArchitecturePackages(t *testing.T) {
	pkgs := modulePackages(t)
	rows := archTable(t)
	seen := map[string]bool{}
	for _, row := range rows {
		if seen[row.pkg] {
			t.Errorf("%s lists %s twice", archDoc, row.pkg)
		}
		seen[row.pkg] = true
		p, ok := pkgs[row.pkg]
		if !ok {
			t.Errorf("%s lists %s, which is not a package of the module", archDoc, row.pkg)
			continue
		}
		if !slices.Equal(row.imports, p.imports) {
			t.Errorf("%s says %s imports %q; its files import %q", archDoc, row.pkg, row.imports, p.imports)
		}
		var allowed func(importer string) bool
		switch row.note {
		case "":
			continue
		case "tests only":
			allowed = func(string) bool { return false }
		case "tests and bench only":
			allowed = func(importer string) bool { return strings.HasPrefix(importer, "bench/") }
		default:
			t.Errorf("%s: %s has the note %q; the test knows \"tests only\" and \"tests and bench only\"", archDoc, row.pkg, row.note)
			continue
		}
		for importer, ip := range pkgs {
			if slices.Contains(ip.imports, row.pkg) && !allowed(importer) {
				t.Errorf("%s says %s is for %s, but %s imports it", archDoc, row.pkg, row.note, importer)
			}
		}
	}
	for name := range pkgs {
		if !seen[name] && !strings.HasPrefix(name, "bench/") {
			t.Errorf("%s has no row for the package %s (imports %q)", archDoc, name, pkgs[name].imports)
		}
	}
}
