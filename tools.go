//go:build tools

// Package tools pins the project's module dependencies that are used only
// by tests or by packages still being written, so `go mod tidy` keeps them.
package tools

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/google/gopacket"
	_ "github.com/google/gopacket/pcapgo"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "golang.org/x/sys/unix"
)
