package server

import "mullet/queue"

func init() {
	register(
		&command{name: "get", fn: cmdGet, arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Get the value of a key", complexity: "O(1)"},
		&command{name: "set", fn: cmdSet, arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1,
			group: "string", since: "1.0.0", summary: "Set the string value of a key", complexity: "O(1)"},
	)
}

func cmdGet(c *client, args [][]byte) {
	v, ok, err := c.tx.Get(c.db, args[1])
	switch {
	case err != nil:
		c.replyErr(err)
	case !ok:
		c.null()
	default:
		c.bulk(v)
	}
}

// cmdSet is a placeholder for the full SET (options come with the strings family).
func cmdSet(c *client, args [][]byte) {
	if _, _, _, err := c.tx.Set(c.db, args[1], args[2], queue.SetOptions{}); err != nil {
		c.replyErr(err)
		return
	}
	c.ok()
}
