package testproc

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// childEnv makes this test binary, run again, the parent that dies: it
// starts a long sleep, says its pid and kills itself.
const childEnv = "TESTPROC_DYING_PARENT"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		cmd := exec.Command("sleep", "600")
		if os.Getenv(childEnv) == "die-with-parent" {
			DieWithParent(cmd)
		}
		if err := cmd.Start(); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString(strconv.Itoa(cmd.Process.Pid) + "\n")
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL) // no cleanup runs
	}
	os.Exit(m.Run())
}

// TestChildDiesWithTheTestBinary kills a test binary that started a
// process: with DieWithParent the process goes too; without, it stays.
// This binary is the child subreaper of its descendants, so an orphaned
// process becomes its child and its end can be waited for.
func TestChildDiesWithTheTestBinary(t *testing.T) {
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	require.Zero(t, errno, "becoming the child subreaper")

	t.Run("die-with-parent", func(t *testing.T) {
		pid := orphan(t, "die-with-parent")
		ended := make(chan syscall.WaitStatus, 1)
		go func() {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, 0, nil)
			ended <- ws
		}()
		select {
		case ws := <-ended:
			require.True(t, ws.Signaled(), "the process ended by a signal: %v", ws)
			require.Equal(t, syscall.SIGKILL, ws.Signal())
		case <-time.After(time.Minute): // only a broken DieWithParent takes it
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d outlived the test binary that started it", pid)
		}
	})
	t.Run("plain", func(t *testing.T) {
		pid := orphan(t, "plain")
		defer func() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, 0, nil)
		}()
		// Had the kernel been told to signal it, it would have done so
		// before its parent's end was reported.
		require.NoError(t, syscall.Kill(pid, 0), "without DieWithParent the process outlives its parent: the test can tell")
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		require.NoError(t, err)
		require.Zero(t, got, "the process has not ended")
	})
}

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER.
const prSetChildSubreaper = 36

// orphan runs this binary as a parent that starts a sleep and dies, and
// returns the sleep's pid.
func orphan(t *testing.T, mode string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the parent said no pid")
	_ = cmd.Wait() // killed, as it meant to be
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	return pid
}
