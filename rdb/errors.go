package rdb

import (
	"errors"
	"fmt"
)

// These errors can be returned by Decode before it looks at the value. Redis's
// RESTORE answers both with "ERR DUMP payload version or checksum are wrong".
var (
	// ErrVersion is returned when a DUMP payload or RDB file declares an RDB
	// version newer than Version (10, Redis 7.0's), or an RDB file declares
	// version 0.
	ErrVersion = errors.New("rdb: unsupported RDB version")
	// ErrChecksum is returned when the CRC64 stored in a DUMP payload or at
	// the end of an RDB file does not match the data, or when a payload is
	// too short to hold its 10-byte trailer.
	ErrChecksum = errors.New("rdb: checksum mismatch")
)

// These errors can be returned while decoding a value or reading a file.
var (
	// ErrCorrupt is returned (wrapped in a *CorruptError) when the data does
	// not follow the RDB format. RESTORE answers "ERR Bad data format".
	ErrCorrupt = errors.New("rdb: corrupt data")
	// ErrUnsupportedType is returned (wrapped in a *TypeError) for values that
	// are neither strings nor lists, and for file records that hold something
	// else than keys (module aux data, function libraries). A queue server
	// holds only lists and strings, so it refuses instead of dropping data.
	ErrUnsupportedType = errors.New("rdb: unsupported value type")
	// ErrEmptyKey is returned by Decode for a list with no items. Redis
	// refuses to RESTORE such a payload ("ERR Bad data format"); when loading
	// a file it skips the key, and so does Load.
	ErrEmptyKey = errors.New("rdb: empty list")
	// ErrNotRDB is returned by Load when the input does not start with the
	// "REDIS" magic, for example an AOF holding RESP commands.
	ErrNotRDB = errors.New("rdb: not an RDB file")
)

// CorruptError describes where and how the input breaks the RDB format.
// errors.Is(err, ErrCorrupt) is true for every CorruptError; when the input
// ended early, errors.Is(err, io.ErrUnexpectedEOF) is true as well, so a
// caller can tell a truncated file from a damaged one.
type CorruptError struct {
	Offset int64  // bytes from the start of the payload or file
	Reason string // what was wrong, for humans
	Err    error  // underlying cause such as io.ErrUnexpectedEOF; may be nil
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("rdb: corrupt data at offset %d: %s", e.Offset, e.Reason)
}

// Unwrap returns ErrCorrupt and the underlying cause, if any.
func (e *CorruptError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrCorrupt}
	}
	return []error{ErrCorrupt, e.Err}
}

// TypeError reports a record this package does not load: a key whose value
// is not a string or a list, or a non-key record such as module aux data.
// errors.Is(err, ErrUnsupportedType) is true for every TypeError.
type TypeError struct {
	Offset int64  // where the record's type byte starts
	DB     int    // database of the key; 0 for a DUMP payload
	Key    []byte // nil for a DUMP payload and for non-key records
	Type   byte   // RDB object type or opcode, as found in the input
}

func (e *TypeError) Error() string {
	if e.Key == nil {
		return fmt.Sprintf("rdb: unsupported %s (RDB type %d) at offset %d", typeName(e.Type), e.Type, e.Offset)
	}
	return fmt.Sprintf("rdb: key %q in db %d holds an unsupported %s (RDB type %d)", e.Key, e.DB, typeName(e.Type), e.Type)
}

// Unwrap returns ErrUnsupportedType.
func (e *TypeError) Unwrap() error { return ErrUnsupportedType }

// typeName names an RDB object type or opcode the way Redis's TYPE command
// and rdb.h do, so an operator recognises what blocked the load.
func typeName(t byte) string {
	switch t {
	case typeString:
		return "string"
	case typeList, typeListZiplist, typeListQuicklist, typeListQuicklist2:
		return "list"
	case 2, 11, 20: // SET, SET_INTSET, SET_LISTPACK
		return "set"
	case 3, 5, 12, 17: // ZSET, ZSET_2, ZSET_ZIPLIST, ZSET_LISTPACK
		return "zset"
	case 4, 9, 13, 16, 22, 23, 24, 25: // HASH and its compact/field-expiry forms
		return "hash"
	case 6, 7: // MODULE_PRE_GA, MODULE_2
		return "module value"
	case 15, 19, 21: // STREAM_LISTPACKS 1..3
		return "stream"
	case opModuleAux:
		return "module aux data"
	case opFunction2, opFunctionPreGA:
		return "function library"
	case opSlotInfo:
		return "slot info"
	}
	return "unknown type"
}
