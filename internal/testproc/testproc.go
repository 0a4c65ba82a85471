// Package testproc is what a test that starts a server process needs so
// that the process never outlives the test binary.
//
// A test's cleanups stop what it started, but they do not run when the
// test binary dies at once: killed from outside, or ended by -timeout,
// which panics without running cleanups. A gateway or a collector left
// behind then holds its port and its files until someone finds it.
package testproc

import "os/exec"

// DieWithParent makes the process cmd starts receive SIGKILL when the test
// binary that starts it dies, however it dies. Call it before cmd.Start.
// Where the system cannot do this (anywhere but Linux) it does nothing.
func DieWithParent(cmd *exec.Cmd) {
	dieWithParent(cmd)
}
