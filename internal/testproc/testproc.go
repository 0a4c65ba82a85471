// Package testproc is what tests need around the programs they run:
// finding them, building them, and making sure none outlives the test
// binary.
//
// A test's cleanups stop what it started, but they do not run when the
// test binary dies at once: killed from outside, or ended by -timeout,
// which panics without running cleanups. A gateway or a collector left
// behind then holds its port and its files until someone finds it.
package testproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// DieWithParent makes the process cmd starts receive SIGKILL when the test
// binary that starts it dies, however it dies. Call it before cmd.Start.
// Where the system cannot do this (anywhere but Linux) it does nothing.
func DieWithParent(cmd *exec.Cmd) {
	dieWithParent(cmd)
}

// Program returns a program the test needs: the value of the environment
// variable env when it is set (env may be ""), else the first of names
// found on PATH. Without it the test ends as Missing says, with why.
func Program(t testing.TB, env string, names []string, why string) string {
	t.Helper()
	if env != "" {
		if bin := os.Getenv(env); bin != "" {
			return bin
		}
	}
	for _, name := range names {
		if bin, err := exec.LookPath(name); err == nil {
			return bin
		}
	}
	Missing(t, why)
	return ""
}

// Missing ends a test that lacks something it needs (why says what): it
// fails when CI is set, since CI must never pass by skipping, and is
// skipped elsewhere.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	} else {
		t.Skip(why)
	}
}

// Built returns a program the repository builds: the value of the
// environment variable env when it is set (make sets it for the tests),
// else rel below the repository's root, made first with make's target.
func Built(t testing.TB, env, root, target, rel string) string {
	t.Helper()
	if bin := os.Getenv(env); bin != "" {
		return bin
	}
	if out, err := exec.Command("make", "-C", root, target).CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out)
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}
