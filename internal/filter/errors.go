package filter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// RowError reports that the filter failed on a row.
type RowError struct {
	// Row is the 1-based number of the row in the stream.
	Row int64
	// Err is the filter's error.
	Err error
}

func (e *RowError) Error() string { return fmt.Sprintf("jq error on row %d: %v", e.Row, e.Err) }

// Unwrap returns the filter's error.
func (e *RowError) Unwrap() error { return e.Err }

// HaltError reports that the filter called halt or halt_error: the stream
// stops, and the process exits with Code, as jq does.
type HaltError struct {
	// Row is the 1-based number of the row being filtered, once known.
	Row int64
	// Code is the exit code asked for: 0 for halt, 5 for halt_error.
	Code int
	// Value is halt_error's input, to be written to standard error (a
	// string as it is, anything else as JSON and a newline); nil for halt.
	Value any
}

func (e *HaltError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("halted on row %d", e.Row)
	}
	return fmt.Sprintf("halt_error on row %d with exit code %d", e.Row, e.Code)
}

// Message returns what jq writes to standard error for the halt: a string
// value as it is, any other value as JSON with a newline, nothing for halt.
func (e *HaltError) Message() []byte {
	switch v := e.Value.(type) {
	case nil:
		return nil
	case string:
		return []byte(v)
	default:
		var enc encoder
		b, err := enc.appendValue(nil, v)
		if err != nil {
			return []byte(err.Error() + "\n")
		}
		return append(b, '\n')
	}
}

// SyntaxError reports JSON text that could not be decoded.
type SyntaxError struct {
	// Offset is the byte offset in the text where the problem was found.
	Offset int
	// Msg says what was wrong.
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// DepthError reports JSON text nested deeper than the decoder goes: the
// text may well be valid JSON, and is not read past that point.
type DepthError struct {
	// Offset is the byte offset of the '[' or '{' one level too deep.
	Offset int
	// Limit is the deepest nesting decoded.
	Limit int
}

func (e *DepthError) Error() string {
	return fmt.Sprintf("JSON nested more than %d levels deep (at byte %d)", e.Limit, e.Offset)
}

// frozenError is an error's message, taken when it happened.
type frozenError struct{ msg string }

func (e *frozenError) Error() string { return e.msg }

// frozen returns err with its message fixed now: a gojq error formats the
// value it is about when asked, and that value is built in memory that the
// next row reuses. fraise's own errors (a *SyntaxError, a *DepthError,
// the context's) hold no such value and are kept as they are.
func frozen(err error) error {
	var se *SyntaxError
	var de *DepthError
	if errors.As(err, &se) || errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &frozenError{msg: err.Error()}
}

// own returns a deep copy of v that shares no memory with the row it came
// from: strings, maps, slices and boxed numbers copied.
func own(v any) any {
	switch x := v.(type) {
	case string:
		return strings.Clone(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[strings.Clone(k)] = own(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = own(e)
		}
		return a
	case json.Number:
		return json.Number(strings.Clone(string(x)))
	case int:
		return x // a box of its own: the decoder's may be reused (box.go)
	}
	return v
}
