package command

import (
	"errors"
	"fmt"

	"mullet/config"
)

// CONFIG GET, SET, RESETSTAT, REWRITE and HELP. The directives, their
// formats and CONFIG SET's checks and error texts live in package config;
// these handlers only move arguments and replies.

func init() {
	const std = flagNoTx | flagAdmin | flagNoScript | flagLoading | flagStale
	register(&command{name: "config", arity: -2, flags: flagNoTx | flagLoading | flagStale,
		group: "server", since: "2.0.0", summary: "A container for server configuration commands", complexity: "Depends on subcommand."})
	subcommands("config",
		&command{name: "get", fn: cmdConfigGet, arity: -3, flags: std,
			since: "2.0.0", summary: "Get the values of configuration parameters", complexity: "O(N) when N is the number of configuration parameters provided"},
		&command{name: "set", fn: cmdConfigSet, arity: -4, flags: std,
			since: "2.0.0", summary: "Set configuration parameters to the given values", complexity: "O(N) when N is the number of configuration parameters provided"},
		&command{name: "resetstat", fn: cmdConfigResetStat, arity: 2, flags: std,
			since: "2.0.0", summary: "Reset the stats returned by INFO", complexity: "O(1)"},
		&command{name: "rewrite", fn: cmdConfigRewrite, arity: 2, flags: std,
			since: "2.8.0", summary: "Rewrite the configuration file with the in memory configuration", complexity: "O(1)"},
		&command{name: "help", fn: cmdConfigHelp, arity: 2, flags: flagNoTx | flagLoading | flagStale,
			since: "5.0.0", summary: "Show helpful text about the different subcommands", complexity: "O(1)"},
	)
}

// cmdConfigGet answers a map of every directive matching any pattern, each
// once, in first-match order, as Redis 7 does.
func cmdConfigGet(c *Session, args [][]byte) {
	patterns := make([]string, len(args)-2)
	for i, a := range args[2:] {
		patterns[i] = string(a)
	}
	pairs := c.core.set.MatchAll(patterns...)
	c.mapLen(len(pairs))
	for _, kv := range pairs {
		c.bulkString(kv[0])
		c.bulkString(kv[1])
	}
}

// cmdConfigSet applies the pairs atomically. A client on the loopback
// interface (or a Unix socket) may also change protected directives when
// enable-protected-configs is local, as in Redis.
func cmdConfigSet(c *Session, args [][]byte) {
	pairs := make([]string, len(args)-2)
	for i, a := range args[2:] {
		pairs[i] = string(a)
	}
	// Redis's configSetCommand redacts every secret value before checking
	// anything but the argument count, so a refused CONFIG SET hides them
	// too.
	if len(pairs)%2 == 0 {
		for i := 2; i < len(args); i += 2 {
			if d, ok := config.Describe(pairs[i-2]); ok && d.Sensitive {
				redactArg(args, i+1)
			}
		}
	}
	var err error
	if c.isLocal() {
		err = c.core.set.SetLocal(pairs...)
	} else {
		err = c.core.set.Set(pairs...)
	}
	if err != nil {
		c.replyErr(err)
		return
	}
	c.ok()
}

// isLocal reports whether the client connected over loopback or a Unix
// socket: Redis's islocalClient.
func (c *Session) isLocal() bool { return c.conn.Local() }

func cmdConfigResetStat(c *Session, args [][]byte) {
	c.core.resetStats()
	c.ok()
}

func cmdConfigRewrite(c *Session, args [][]byte) {
	if err := c.core.set.Rewrite(""); err != nil {
		if !errors.Is(err, config.ErrNoConfigFile) {
			err = fmt.Errorf("%w: %w", errRewriteConfig, err)
		}
		c.replyErr(err)
		return
	}
	c.ok()
}

func cmdConfigHelp(c *Session, args [][]byte) {
	c.help("CONFIG", []string{
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	})
}
