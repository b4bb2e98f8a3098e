package demo

import (
	"fmt"
	"os"
	"path/filepath"
)

// CollectorBinaryEnv names the ocb-built collector for the end-to-end tests.
const CollectorBinaryEnv = "OTELCOL_BINARY"

// CollectorBinary returns the absolute path in $OTELCOL_BINARY, "" when it is unset (the
// caller skips), or an error when it names no file.
func CollectorBinary() (string, error) {
	bin := os.Getenv(CollectorBinaryEnv)
	if bin == "" {
		return "", nil
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("%s=%s: %w", CollectorBinaryEnv, bin, err)
	}
	return abs, nil
}
