package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"mullet/consumer"
)

func sinkCommand() *cli.Command {
	return &cli.Command{
		Name:  "sink",
		Usage: "inspect the embedded bbolt sink (<dir>/sink.db)",
		Subcommands: []*cli.Command{{
			Name:      "dump",
			Usage:     "print a table's rows as JSON lines, in insertion order (the server must be stopped)",
			ArgsUsage: "TABLE",
			Flags: []cli.Flag{
				&cli.StringFlag{
					Name:    "dir",
					Value:   "./data",
					Usage:   "mullet's data directory (the dir directive)",
					EnvVars: []string{"MULLET_DIR"},
				},
			},
			Action: func(cctx *cli.Context) error {
				if cctx.NArg() != 1 {
					return cli.Exit("usage: mullet sink dump [--dir DIR] TABLE", 2)
				}
				return sinkDump(cctx.String("dir"), cctx.Args().First(), cctx.App.Writer)
			},
		}},
	}
}

// sinkDump writes table's rows from dir's sink file to w.
func sinkDump(dir, table string, w io.Writer) error {
	path := filepath.Join(dir, consumer.BoltFile)
	if _, err := os.Stat(path); err != nil {
		// bbolt would create an empty file; say what is wrong instead.
		return fmt.Errorf("no sink file %s (wrong --dir? with consumer-mysql-dsn or consumer-postgres-dsn set, the rows are in that database): %w", path, err)
	}
	err := consumer.DumpTable(path, table, w)
	if errors.Is(err, consumer.ErrSinkLocked) {
		return fmt.Errorf("%s is held by a running mullet: bbolt lets no reader in while the server may write; "+
			"stop the server (SHUTDOWN or SIGTERM) and run the dump again", path)
	}
	return err
}
