package rdb

// Constants from Redis 7.0's rdb.h and quicklist.h, named after them.

// Version is the RDB version this package writes into DUMP payloads: Redis
// 7.0's. Decode accepts payloads of this or any older version, as RESTORE does.
const Version = 10

// Object types (RDB_TYPE_*) this package reads.
const (
	typeString         = 0  // RDB_TYPE_STRING
	typeList           = 1  // RDB_TYPE_LIST: a length, then that many strings
	typeListZiplist    = 10 // RDB_TYPE_LIST_ZIPLIST: one ziplist (Redis < 3.2)
	typeListQuicklist  = 14 // RDB_TYPE_LIST_QUICKLIST: ziplist nodes (Redis 3.2-6.2)
	typeListQuicklist2 = 18 // RDB_TYPE_LIST_QUICKLIST_2: listpack or plain nodes (Redis 7.0)
)

// Opcodes (RDB_OPCODE_*) that may appear where a file expects a type byte.
const (
	opSlotInfo      = 244 // cluster slot info (RDB 12, Redis 7.4)
	opFunction2     = 245 // function library
	opFunctionPreGA = 246 // function library, 7.0 release candidates
	opModuleAux     = 247 // module auxiliary data
	opIdle          = 248 // LRU idle time of the next key
	opFreq          = 249 // LFU frequency of the next key
	opAux           = 250 // aux field: two strings
	opResizeDB      = 251 // hash table size hints: two lengths
	opExpireTimeMs  = 252 // expire time of the next key, int64 ms LE
	opExpireTime    = 253 // expire time of the next key, int32 s LE
	opSelectDB      = 254 // database of the following keys
	opEOF           = 255 // end of file; an 8-byte CRC64 follows (RDB >= 5)
)

// Length encoding: the top two bits of the first byte.
const (
	len6Bit  = 0    // 00xxxxxx
	len14Bit = 1    // 01xxxxxx xxxxxxxx, big-endian
	len32Bit = 0x80 // 10000000 + 4 bytes big-endian
	len64Bit = 0x81 // 10000001 + 8 bytes big-endian
	lenEnc   = 3    // 11xxxxxx: a specially encoded string follows
)

// Special string encodings (RDB_ENC_*), the low six bits after lenEnc.
const (
	encInt8  = 0 // 1 byte, signed
	encInt16 = 1 // 2 bytes LE, signed
	encInt32 = 2 // 4 bytes LE, signed
	encLZF   = 3 // compressed length, uncompressed length, LZF data
)

// Quicklist node containers (QUICKLIST_NODE_CONTAINER_*) in RDB_TYPE_LIST_QUICKLIST_2.
const (
	containerPlain  = 1 // the node is a single item, stored as is
	containerPacked = 2 // the node is a listpack
)

// trailerLen is the size of a DUMP payload's trailer: 2-byte version, 8-byte CRC64.
const trailerLen = 10

// NoExpire is the expireAtMs Load passes for keys without a time to live.
// Redis uses the same value internally.
const NoExpire int64 = -1
