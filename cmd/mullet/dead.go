package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v2"

	"mullet/consumer/dead"
)

// deadCommand is 'mullet dead': the dead letters of a running server's
// queues, over RESP (consumer/dead does the work).
func deadCommand() *cli.Command {
	conn := []cli.Flag{
		&cli.StringFlag{Name: "addr", Value: "127.0.0.1:6379", Usage: "server `host:port`"},
		&cli.StringFlag{Name: "password", Aliases: []string{"a"}, EnvVars: []string{"REDISCLI_AUTH"}, Usage: "AUTH password (-a as in redis-cli)"},
	}
	pick := append([]cli.Flag{
		&cli.BoolFlag{Name: "all", Usage: "every dead letter of the queue"},
		&cli.StringFlag{Name: "reason", Usage: "those whose reason matches `REGEXP` (Go syntax, e.g. 'Data too long')"},
		&cli.IntFlag{Name: "index", Value: -1, Usage: "the one numbered `N` by 'mullet dead list' (0: the oldest)"},
	}, conn...)
	change := func(requeue bool) cli.ActionFunc {
		return func(cctx *cli.Context) error {
			queue, err := oneQueue(cctx)
			if err != nil {
				return err
			}
			var sel dead.Selector
			sel.All = cctx.Bool("all")
			if p := cctx.String("reason"); p != "" {
				if sel.Reason, err = regexp.Compile(p); err != nil {
					return fmt.Errorf("dead: --reason: %w", err)
				}
			}
			if cctx.IsSet("index") {
				i := cctx.Int("index")
				sel.Index = &i
			}
			rdb, err := deadClient(cctx)
			if err != nil {
				return err
			}
			defer rdb.Close()
			op, verb := dead.Drop, "dropped"
			if requeue {
				op, verb = dead.Requeue, "requeued to "+queue
			}
			moved, err := op(cctx.Context, rdb, queue, sel)
			if err != nil {
				return err
			}
			for _, l := range moved {
				fmt.Fprintf(cctx.App.Writer, "#%d %s: %s\n", l.Index, verb, oneLine(l.Item, 120))
			}
			fmt.Fprintf(cctx.App.Writer, "%d dead letters %s\n", len(moved), verb)
			return nil
		}
	}
	return &cli.Command{
		Name:  "dead",
		Usage: "list, requeue or drop a queue's dead letters on a running server",
		Description: "The consumer moves an item it cannot write to QUEUE:dead and why to QUEUE:dead:reasons.\n" +
			"Fix the cause (widen the column, add it), requeue, and watch INFO consumer: an item\n" +
			"that fails again comes back as a dead letter. Letters are numbered from the oldest (0);\n" +
			"each moves with its reason record in one MULTI/EXEC, safe while the consumer runs.",
		Subcommands: []*cli.Command{
			{
				Name: "list", Usage: "print the dead letters with their reasons, oldest first", ArgsUsage: "QUEUE",
				Flags: conn,
				Action: func(cctx *cli.Context) error {
					queue, err := oneQueue(cctx)
					if err != nil {
						return err
					}
					rdb, err := deadClient(cctx)
					if err != nil {
						return err
					}
					defer rdb.Close()
					letters, err := dead.List(cctx.Context, rdb, queue)
					if err != nil {
						return err
					}
					writeLetters(cctx.App.Writer, queue, letters)
					return nil
				},
			},
			{Name: "requeue", Usage: "move dead letters back to the queue (written next), dropping their reasons", ArgsUsage: "QUEUE",
				Flags: pick, Action: change(true)},
			{Name: "drop", Usage: "delete dead letters and their reasons", ArgsUsage: "QUEUE",
				Flags: pick, Action: change(false)},
		},
	}
}

func oneQueue(cctx *cli.Context) (string, error) {
	if cctx.NArg() != 1 {
		return "", cli.Exit("usage: mullet dead "+cctx.Command.Name+" [flags] QUEUE (flags before the queue)", 2)
	}
	return cctx.Args().First(), nil
}

// deadClient connects as 'mullet bench' does: plain RESP2, no retries (a
// retried EXEC could requeue twice).
func deadClient(cctx *cli.Context) (*redis.Client, error) {
	quietRedis()
	addr := cctx.String("addr")
	rdb := redis.NewClient(&redis.Options{
		Addr: addr, Password: cctx.String("password"),
		MaxRetries: -1, Protocol: 2, DisableIdentity: true, PoolSize: 1,
	})
	if err := rdb.Ping(cctx.Context).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("dead: %s: %w", addr, err)
	}
	return rdb, nil
}

// writeLetters prints one letter per block: index, time, table, batch and
// reason, then the item.
func writeLetters(w io.Writer, queue string, letters []dead.Letter) {
	fmt.Fprintf(w, "%s:dead: %d dead letters, oldest first\n", queue, len(letters))
	for _, l := range letters {
		at := "-"
		if !l.Reason.At.IsZero() {
			at = l.Reason.At.Format(time.RFC3339Nano)
		}
		fmt.Fprintf(w, "#%d  %s  table %s  batch %s\n    reason: %s\n    item:   %s\n",
			l.Index, at, l.Reason.Table, l.Reason.Batch, l.Reason.Reason, oneLine(l.Item, 200))
	}
}

// oneLine shows s on one line, cut at n bytes.
func oneLine(s string, n int) string {
	s = strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
	if len(s) > n {
		return s[:n] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// quietRedis keeps go-redis's own log lines (its pool's dial failures,
// printed to stderr in its own format) out of the tools' output: every
// error reaches the caller, which reports it once, in mullet's words.
func quietRedis() { redis.SetLogger(discardLogger{}) }

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}
