package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"mullet/aof"
	"mullet/persist"
)

// aofCommand is "mullet aof check [--fix] DIR": what redis-check-aof does,
// for mullet's (and Redis 7's) multi-part AOF directories.
func aofCommand() *cli.Command {
	return &cli.Command{
		Name:  "aof",
		Usage: "inspect and repair append-only files",
		Subcommands: []*cli.Command{{
			Name:      "check",
			Usage:     "verify an AOF directory (and with --fix, truncate a torn tail)",
			ArgsUsage: "DIR",
			Description: "DIR is the AOF directory (appendonlydir), its manifest, or the server's\n" +
				"dir that holds it. Damage in the last incr file can be fixed by\n" +
				"truncating it back to the last whole command; damage elsewhere cannot.",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "fix", Usage: "truncate the last incr file back to the last good command"},
				&cli.StringFlag{Name: "appenddirname", Value: aof.DefaultDirName},
				&cli.StringFlag{Name: "appendfilename", Value: aof.DefaultFileName},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return cli.Exit("usage: mullet aof check [--fix] DIR", 2)
				}
				opts := aof.DefaultOptions(c.Args().First())
				opts.DirName = c.String("appenddirname")
				opts.FileName = c.String("appendfilename")
				opts.LoadRDB = persist.LoadRDB
				err := aof.Check(c.Args().First(), opts, c.Bool("fix"), os.Stdout)
				var ce *aof.CorruptError
				if errors.As(err, &ce) {
					return cli.Exit(fmt.Sprintf("%v", err), 1)
				}
				return err
			},
		}},
	}
}
