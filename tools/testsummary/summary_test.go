package main

import (
	"bytes"
	"strings"
	"testing"
)

// stream is go test -json output of two packages: one with a pass, a
// skip (with its reason) and a failure, one with no test files, and one
// that ended without a result (killed).
const stream = `{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestPass"}
{"Action":"output","Package":"a","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"a","Test":"TestPass","Output":"    noise that passing tests print\n"}
{"Action":"pass","Package":"a","Test":"TestPass"}
{"Action":"run","Package":"a","Test":"TestSkip"}
{"Action":"output","Package":"a","Test":"TestSkip","Output":"=== RUN   TestSkip\n"}
{"Action":"output","Package":"a","Test":"TestSkip","Output":"    skip_test.go:9: needs PostgreSQL 14 or later (client_connection_check_interval)\n"}
{"Action":"output","Package":"a","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"a","Test":"TestSkip"}
{"Action":"run","Package":"a","Test":"TestFail"}
{"Action":"output","Package":"a","Test":"TestFail","Output":"    fail_test.go:3: got 1, want 2\n"}
{"Action":"fail","Package":"a","Test":"TestFail"}
{"Action":"output","Package":"a","Output":"FAIL\n"}
{"Action":"fail","Package":"a"}
{"Action":"skip","Package":"b"}
not json: a build error
{"Action":"run","Package":"c","Test":"TestHang"}
`

func TestSummary(t *testing.T) {
	var out bytes.Buffer
	s := newSummary(&out)
	if err := s.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	s.print()
	got := out.String()
	for _, want := range []string{
		"fail_test.go:3: got 1, want 2",
		"not json: a build error",
		"skipped: a TestSkip: skip_test.go:9: needs PostgreSQL 14 or later (client_connection_check_interval)",
		"FAIL (no result: killed?)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "noise that passing tests print") {
		t.Errorf("a passing test's output was printed:\n%s", got)
	}
	a := s.pkgs["a"]
	if a.ran != 3 || a.passed != 1 || a.failed != 1 || a.skipped != 1 || a.result != "FAIL" {
		t.Errorf("package a = %+v", *a)
	}
	if _, listed := s.pkgs["b"]; !listed || strings.Contains(got, "\n  b") {
		t.Errorf("package b (no test files) should be known but not in the table:\n%s", got)
	}
	if !s.failed() {
		t.Error("failed() = false with a failed test")
	}
}

func TestSummaryAllPass(t *testing.T) {
	const ok = `{"Action":"run","Package":"a","Test":"T"}
{"Action":"pass","Package":"a","Test":"T"}
{"Action":"pass","Package":"a"}
`
	s := newSummary(&bytes.Buffer{})
	if err := s.read(strings.NewReader(ok)); err != nil {
		t.Fatal(err)
	}
	if s.failed() {
		t.Error("failed() = true with every test passed")
	}
}
