//go:build tools

// Package tools pins the code generators the Makefile builds (mdatagen), in their own module
// so that their dependencies stay out of the exporter's go.mod.
package tools

import (
	_ "go.opentelemetry.io/collector/cmd/mdatagen"
)
