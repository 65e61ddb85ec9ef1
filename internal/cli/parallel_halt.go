package cli

import (
	"errors"

	"github.com/fraiseql/fraise/internal/filter"
)

// Where a parallel run's output ends early: jq's halt, or a row --jq
// failed on, in one range ends the output there, as on one connection.

// endsOutput reports whether err, a range's, ends the output at its row
// as on one connection: jq's halt or halt_error, or a row --jq failed on.
// The ranges before it are written whole, then its lines before the row.
func endsOutput(err error) bool {
	var he *filter.HaltError
	var re *filter.RowError
	return errors.As(err, &he) || errors.As(err, &re)
}

// globalRow makes the row number in err, counted in range i, a number in
// the whole output, as one connection counts it. Called once every range
// before i is streamed.
func (pr *parallelRun) globalRow(i int, err error) {
	var before int64
	for _, n := range pr.rows[:i] {
		before += n
	}
	var he *filter.HaltError
	var re *filter.RowError
	switch {
	case errors.As(err, &he) && he.Row > 0:
		he.Row += before
	case errors.As(err, &re):
		re.Row += before
	}
}

// halt ends the output after range i's lines (jq's halt there): the ranges
// after it are not written, those before are.
func (pr *parallelRun) halt(i int, err error) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.cutAt >= 0 && pr.cutAt < i {
		return
	}
	pr.cutAt, pr.halted = i, err
	for _, p := range pr.parts[i+1:] {
		p.Drop()
	}
}

// cut reports whether range i comes after a halt.
func (pr *parallelRun) cut(i int) bool {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.cutAt >= 0 && i > pr.cutAt
}
