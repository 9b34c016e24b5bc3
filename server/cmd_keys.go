package server

func init() {
	register(
		&command{name: "del", fn: cmdDel, arity: -2, flags: flagWrite, firstKey: 1, lastKey: -1, step: 1,
			group: "generic", since: "1.0.0", summary: "Delete a key", complexity: "O(N) where N is the number of keys that will be removed."},
		&command{name: "exists", fn: cmdExists, arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1,
			group: "generic", since: "1.0.0", summary: "Determine if a key exists", complexity: "O(N) where N is the number of keys to check."},
	)
}

func cmdDel(c *client, args [][]byte) { c.int(c.tx.Del(c.db, args[1:])) }

func cmdExists(c *client, args [][]byte) { c.int(c.tx.Exists(c.db, args[1:])) }
