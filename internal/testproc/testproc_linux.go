package testproc

import (
	"os/exec"
	"syscall"
)

func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// The signal comes when the thread that started the process exits;
	// Go ends a thread only when a goroutine locked to it returns, which
	// the tests that start servers do not do.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
