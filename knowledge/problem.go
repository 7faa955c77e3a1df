package knowledge

import (
	"fmt"
	"strings"
)

// Problem is something wrong in the FAQ files, positioned for an editor.
// Line and Col are 1-based; 0 means unknown.
type Problem struct {
	Path      string
	Line, Col int
	Warning   bool
	Msg       string
}

// String formats the problem the way compilers do, one line an editor's
// tools can jump to: "knowledge/faq/work/work.permit.yaml:14: answer.uk is missing".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Path)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Col > 0 {
			fmt.Fprintf(&b, ":%d", p.Col)
		}
	}
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is a list of problems, errors and warnings mixed.
type Problems []Problem

// Errors returns only the problems that are errors.
func (ps Problems) Errors() Problems { return ps.filter(false) }

// Warnings returns only the problems that are warnings.
func (ps Problems) Warnings() Problems { return ps.filter(true) }

func (ps Problems) filter(warning bool) Problems {
	var out Problems
	for _, p := range ps {
		if p.Warning == warning {
			out = append(out, p)
		}
	}
	return out
}

// Err returns an error listing every error in ps, or nil when ps holds only
// warnings.
func (ps Problems) Err() error {
	errs := ps.Errors()
	if len(errs) == 0 {
		return nil
	}
	return &InvalidError{Problems: errs}
}

// InvalidError is returned when FAQ files have errors; it carries them all.
type InvalidError struct {
	Problems Problems
}

func (e *InvalidError) Error() string {
	first := e.Problems[0].String()
	if len(e.Problems) == 1 {
		return first
	}
	return fmt.Sprintf("%s (and %d more problems)", first, len(e.Problems)-1)
}

// reporter collects the problems of one file.
type reporter struct {
	path string
	out  *Problems
}

func (r reporter) errorAt(p Pos, format string, args ...any) {
	*r.out = append(*r.out, Problem{Path: r.path, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}

func (r reporter) warnAt(p Pos, format string, args ...any) {
	*r.out = append(*r.out, Problem{Path: r.path, Line: p.Line, Col: p.Col, Warning: true, Msg: fmt.Sprintf(format, args...)})
}
