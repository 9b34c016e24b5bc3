package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/go-sql-driver/mysql"

	"mullet/config"
	"mullet/consumer"
	"mullet/queue"
	"mullet/server"
)

// newConsumer builds the embedded consumer from the consumer-* directives:
// the PostgreSQL sink when consumer-postgres-dsn is set, the MySQL sink
// when consumer-mysql-dsn is (never both), else the bbolt file
// <dir>/sink.db. It does not start it (Start after the server listens, so
// a slow sink never delays clients). CONFIG SET of the mutable directives
// reaches it through OnChange hooks.
func newConsumer(set *config.Config, ks *queue.Keyspace, dir string, logger *slog.Logger) (*consumer.Consumer, error) {
	// The driver's own messages go through the server's log handler, in
	// its format (for connections not opened through MySQLOptions too).
	mysql.SetLogger(consumer.MySQLLogger(logger))
	cfg := consumer.DefaultConfig()
	for _, r := range set.Routes() {
		cfg.Routes = append(cfg.Routes, consumer.Route{Queue: r.Queue, Table: r.Table})
	}
	pool := int(set.Int("consumer-pool-size"))
	cfg.PoolSize = pool
	cfg.BatchSize = int(set.Int("consumer-batch-size"))
	cfg.Linger = set.Duration("consumer-linger")
	cfg.RetryMin = set.Duration("consumer-retry-min")
	cfg.RetryMax = set.Duration("consumer-retry-max")
	cfg.StrictOrder = set.Bool("consumer-strict-order")
	cfg.Disabled = !set.Bool("consumer-enabled")
	cfg.Logger = logger
	if dsn := set.String("consumer-postgres-dsn"); dsn != "" {
		// config's cross-check refuses consumer-mysql-dsn beside it.
		if err := consumer.CheckPostgresDSN(dsn); err != nil {
			return nil, err
		}
		cfg.OpenSink = func(ctx context.Context) (consumer.Sink, error) {
			// PostgreSQL sees at most consumer-pool-size connections.
			return consumer.NewPostgres(ctx, dsn, pool, nil)
		}
	} else if dsn := set.String("consumer-mysql-dsn"); dsn != "" {
		if err := consumer.CheckDSN(dsn); err != nil {
			return nil, err
		}
		logger.Info("consumer sink: MySQL", "dsn", config.MaskDSN(dsn))
		cfg.OpenSink = func(ctx context.Context) (consumer.Sink, error) {
			// The sink's pool is the consumer's: MySQL sees at most
			// consumer-pool-size connections from mullet.
			return consumer.NewMySQL(ctx, dsn, pool, &consumer.MySQLOptions{Logger: logger})
		}
	} else {
		path := filepath.Join(dir, consumer.BoltFile)
		cfg.OpenSink = func(context.Context) (consumer.Sink, error) { return consumer.NewBolt(path, nil) }
	}
	c, err := consumer.New(ks, cfg)
	if err != nil {
		return nil, err
	}
	set.OnChange("consumer-batch-size", func(string) error {
		c.SetBatchSize(int(set.Int("consumer-batch-size")))
		return nil
	})
	set.OnChange("consumer-linger", func(string) error {
		c.SetLinger(set.Duration("consumer-linger"))
		return nil
	})
	retry := func(string) error {
		c.SetRetry(set.Duration("consumer-retry-min"), set.Duration("consumer-retry-max"))
		return nil
	}
	set.OnChange("consumer-retry-min", retry)
	set.OnChange("consumer-retry-max", retry)
	set.OnChange("consumer-enabled", func(string) error {
		c.SetEnabled(set.Bool("consumer-enabled"))
		return nil
	})
	return c, nil
}

// consumerSection is the consumer's INFO section (INFO consumer).
func consumerSection(c *consumer.Consumer) server.InfoSection {
	return server.InfoSection{Name: "Consumer", Info: c.Info}
}
