//go:build !unix

package demo

import (
	"os"
	"os/exec"
)

func setProcessGroup(*exec.Cmd) {}

// terminate has no graceful variant without Unix signals: the process is killed.
func terminate(p *os.Process) error { return p.Kill() }
