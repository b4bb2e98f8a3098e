//go:build unix

package demo

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup puts the collector in its own process group, so that a Ctrl-C in the
// terminal reaches only the driver, which then stops everything in order (banks first, so that
// their last spans reach the collector, then the collector, which drains its queue).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks the process to shut down gracefully.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
