// Command mullet is a durable Redis-protocol queue server with an embedded
// consumer that drains queues into MySQL.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// version is mullet's own version, set at build time with
// -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	app := &cli.App{
		Name:    "mullet",
		Usage:   "a durable Redis-protocol queue server that drains into MySQL",
		Version: version,
		Commands: []*cli.Command{
			serveCommand(),
			aofCommand(),
			sinkCommand(),
			benchCommand(),
			deadCommand(),
		},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "mullet:", err)
		os.Exit(1)
	}
}
