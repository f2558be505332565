// Command flexcp is the MPTCP-to-TCP proxy.
//
// Usage:
//
//	flexcp [EAL args --] --config FILE
//
// EAL arguments before "--" replace the config file's eal list (DPDK
// convention); without "--" every argument is flexcp's own. SIGINT and
// SIGTERM stop the workers, drain their TX lists, print a one-line summary
// and close the ports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/flexcp/flexcp/config"
	"github.com/flexcp/flexcp/dataplane"
	"github.com/flexcp/flexcp/metrics"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "flexcp:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	eal, own := config.SplitArgs(args)
	fs := flag.NewFlagSet("flexcp", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "TOML configuration `file` (required)")
	check := fs.Bool("check", false, "load and validate the config, print a summary, and exit")
	if err := fs.Parse(own); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (EAL arguments go before \"--\")", fs.Arg(0))
	}
	if *cfgPath == "" {
		return errors.New("--config FILE is required (see examples/netns.toml)")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if err := cfg.SetEAL(eal); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	if *check {
		fmt.Printf("config %s: %d ports, %d routes, %d workers: OK\n", *cfgPath, len(cfg.Ports), len(cfg.Routes), len(cfg.Lcores))
		return nil
	}

	if err := checkPCI(cfg, "/sys/bus/pci/devices"); err != nil {
		return err
	}
	dp, err := dataplane.New(cfg, dataplane.Options{Logger: log})
	if err != nil {
		return err
	}
	defer dp.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg, err := dp.Registry()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return fmt.Errorf("metrics: %w; change [metrics] listen or stop what holds the port", err)
	}
	metricsErr := make(chan error, 1)
	go func() { metricsErr <- metrics.ServeListener(ctx, ln, reg) }()

	log.Info("flexcp running", "workers", len(cfg.Lcores), "ports", len(cfg.Ports), "metrics", cfg.Metrics.Listen)
	runErr := dp.Run(ctx)
	stop()
	fmt.Println(dp.Summary())
	if err := <-metricsErr; err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// checkPCI fails before EAL starts when a port names a PCI device the
// machine does not have (EAL would only say that no port was probed).
// sysDevices is the sysfs directory of PCI devices.
func checkPCI(cfg *config.Config, sysDevices string) error {
	for i := range cfg.Ports {
		p := &cfg.Ports[i]
		if !p.IsPCI() {
			continue
		}
		if _, err := os.Stat(filepath.Join(sysDevices, p.Device)); err != nil {
			return fmt.Errorf("port %q: PCI device %s does not exist on this machine; list the devices with `dpdk-devbind.py --status` (or lspci -D) and fix device", p.Name, p.Device)
		}
	}
	return nil
}
