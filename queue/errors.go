package queue

import "errors"

// These errors can be returned by any operation on a key.
var (
	// ErrWrongType is returned when an operation targets a key that holds
	// another kind of value (a string where a list is expected, or the
	// reverse).
	ErrWrongType = errors.New("queue: key holds the wrong kind of value")

	// ErrNoSuchKey is returned by operations that need the key to exist
	// (LSET, RENAME).
	ErrNoSuchKey = errors.New("queue: no such key")
)

// These errors can be returned by operations that add data.
var (
	// ErrFull is returned when accepting the write would take used memory
	// past the configured maximum. Nothing is ever evicted to make room.
	ErrFull = errors.New("queue: memory limit reached")

	// ErrLogFailed wraps the log's sticky error: the append-only file could
	// not be written or synced, so writes that add data are refused until
	// it recovers. errors.Unwrap gives the cause.
	ErrLogFailed = errors.New("queue: the log is failing")

	// ErrRewriteInProgress is what a log returns (errors.Is) when asked to
	// rewrite itself while a rewrite runs (BGREWRITEAOF).
	ErrRewriteInProgress = errors.New("queue: a log rewrite is already in progress")

	// ErrNoLog is returned by Sync when persistence is off.
	ErrNoLog = errors.New("queue: no log")

	// ErrBusyKey is returned by Restore when the key exists and REPLACE was
	// not given.
	ErrBusyKey = errors.New("queue: target key already exists")
)

// These errors are returned by operations with arguments the data rejects.
var (
	// ErrIndexOutOfRange is returned by LSET with an index past either end.
	ErrIndexOutOfRange = errors.New("queue: index out of range")

	// ErrNotInteger is returned by INCR and friends when the stored string
	// is not a base-10 64-bit integer.
	ErrNotInteger = errors.New("queue: value is not an integer or out of range")

	// ErrOverflow is returned by INCRBY and DECRBY when the result would not
	// fit in 64 bits.
	ErrOverflow = errors.New("queue: increment or decrement would overflow")

	// ErrDBIndex is returned when a database number is outside
	// [0, Config.Databases).
	ErrDBIndex = errors.New("queue: DB index is out of range")

	// ErrSameObject is returned by RENAME-like operations where source and
	// destination must differ (Redis 7 allows it; kept for SORT STORE).
	ErrSameObject = errors.New("queue: source and destination objects are the same")
)

// These errors end a blocked wait.
var (
	// ErrUnblocked is delivered to a Waiter unblocked by CLIENT UNBLOCK ...
	// ERROR.
	ErrUnblocked = errors.New("queue: client unblocked")
)
