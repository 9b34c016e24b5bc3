package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"mullet/bench/load"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "load a mullet (or any Redis) with producers and consumers; report throughput and latency",
		Description: "Producers LPUSH items of --size bytes (pipelined --pipeline deep) onto --queue;\n" +
			"consumers BRPOP them. Each item carries its push time, so the end-to-end latency\n" +
			"(push to pop) is measured even when producers and consumers run in separate\n" +
			"'mullet bench' processes on hosts with synchronised clocks (--consumers 0 on one,\n" +
			"--producers 0 on the other). A progress line prints every second; at the end,\n" +
			"throughput and latency percentiles and histograms.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:6379", Usage: "server `host:port`"},
			&cli.StringFlag{Name: "password", Aliases: []string{"a"}, EnvVars: []string{"REDISCLI_AUTH"}, Usage: "AUTH password (-a as in redis-cli)"},
			&cli.IntFlag{Name: "producers", Value: 4, Usage: "connections pushing"},
			&cli.IntFlag{Name: "consumers", Value: 4, Usage: "connections popping with BRPOP"},
			&cli.StringFlag{Name: "queue", Value: "mullet-bench", Usage: "list `key` to use"},
			&cli.IntFlag{Name: "size", Value: 200, Usage: "item size in `bytes` (at least 20: the timestamp)"},
			&cli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "how long producers push (ignored with --count)"},
			&cli.Int64Flag{Name: "count", Usage: "push this many items, then stop (0: use --duration)"},
			&cli.IntFlag{Name: "pipeline", Value: 1, Usage: "LPUSHes per round trip of each producer"},
			&cli.DurationFlag{Name: "drain", Value: 10 * time.Second, Usage: "after producers stop, how long consumers may take to pop what was pushed"},
			&cli.BoolFlag{Name: "sink", Usage: "measure the server's embedded consumer: push --item and report the rows/s its route of --queue commits (INFO consumer); no BRPOP consumers, --queue defaults to order_queue"},
			&cli.StringFlag{Name: "item", Value: load.DefaultItem, Usage: "with --sink, the JSON object pushed; {n} becomes a number counting from --start"},
			&cli.Int64Flag{Name: "start", Value: 1, Usage: "with --sink, the first {n} (use a fresh range per run if it is a primary key)"},
		},
		Action: func(cctx *cli.Context) error {
			cfg := load.Config{
				Addr: cctx.String("addr"), Password: cctx.String("password"),
				Producers: cctx.Int("producers"), Consumers: cctx.Int("consumers"),
				Queue: cctx.String("queue"), Size: cctx.Int("size"),
				Duration: cctx.Duration("duration"), Count: cctx.Int64("count"),
				Pipeline: cctx.Int("pipeline"), Drain: cctx.Duration("drain"),
				Every: time.Second, Out: cctx.App.Writer, Progress: cctx.App.ErrWriter,
				Sink: cctx.Bool("sink"), Item: cctx.String("item"), Start: cctx.Int64("start"),
			}
			if cfg.Sink {
				if !cctx.IsSet("consumers") {
					cfg.Consumers = 0
				}
				if !cctx.IsSet("queue") {
					cfg.Queue = "order_queue"
				}
			}
			if cfg.Progress == nil {
				cfg.Progress = os.Stderr
			}
			quietRedis()
			// Ctrl-C ends the run early; the report still prints.
			ctx, stop := signal.NotifyContext(cctx.Context, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			res, err := load.Run(ctx, cfg)
			if err != nil {
				return err
			}
			res.Write(cfg.Out)
			return nil
		},
	}
}
