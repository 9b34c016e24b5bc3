package rdb

import (
	"bufio"
	"bytes"
	"runtime"
	"strconv"
)

type runtimeMemStats = runtime.MemStats

func readMemStats(m *runtime.MemStats) { runtime.ReadMemStats(m) }

func bufioOf(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func itoa(n int) string { return strconv.Itoa(n) }
