// Command testsummary runs go test with -json and prints what a plain run
// hides: per package, how many tests ran, passed, failed and were skipped,
// and each skip with its reason. Failed tests' output is printed in full,
// as go test prints it; passing tests' output is not. It exits with go
// test's status (and 1 when go test exits 0 but a test or package failed).
// It is a tool of the repository, not installed with fraise.
//
// Usage:
//
//	go run ./tools/testsummary [go test flags and packages]
//
// make test runs every go test through it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	cmd := exec.CommandContext(ctx, goBin, append([]string{"test", "-json"}, args...)...)
	cmd.Stderr = stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(stderr, "testsummary:", err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "testsummary:", err)
		return 1
	}
	s := newSummary(stdout)
	readErr := s.read(out)
	waitErr := cmd.Wait()
	s.print()
	switch {
	case readErr != nil:
		fmt.Fprintln(stderr, "testsummary: reading go test's output:", readErr)
		return 1
	case waitErr != nil:
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		fmt.Fprintln(stderr, "testsummary:", waitErr)
		return 1
	case s.failed():
		return 1
	}
	return 0
}
