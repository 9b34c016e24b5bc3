// Package orders generates the realistic JSON orders the backlog benchmarks
// queue (issue 14): about 165 bytes each, with an id, a SKU, a quantity, a
// customer e-mail, a total, a free-text note and a timestamp, drawn from a
// fixed seed so every run and both servers see the same bytes.
package orders

import (
	"fmt"
	"math/rand/v2"
	"time"
)

var (
	first = []string{"anna", "lars", "ingrid", "ole", "kari", "per", "nina", "jonas", "sofie", "erik",
		"maria", "ahmed", "li", "fatima", "lucas", "emma", "noah", "olivia", "liam", "mia",
		"james", "sara", "david", "julia", "mohammed", "elena", "tomas", "hanna", "marco", "yuki"}
	last = []string{"hansen", "johansen", "olsen", "larsen", "andersen", "pedersen", "nilsen", "kristiansen",
		"jensen", "karlsen", "johnsen", "pettersen", "eriksen", "berg", "haugen", "hagen", "johannessen",
		"andreassen", "jacobsen", "dahl", "smith", "garcia", "müller", "rossi", "kowalski", "novak", "silva", "chen"}
	domains = []string{"gmail.com", "outlook.com", "yahoo.com", "online.no", "icloud.com", "hotmail.com",
		"proton.me", "example.org", "firma.no", "live.no"}
	notes = []string{"", "", "", "leave at the door", "call before delivery", "gift wrap please",
		"deliver after 17:00", "fragile", "second floor, ring twice", "no substitutions",
		"express shipping", "pick up in store", "use the back entrance", "invoice to company"}
)

// Gen yields orders from a seed; the i-th order of a seed is always the same.
type Gen struct {
	r  *rand.Rand
	id int64
	ts int64
}

// New starts the sequence of seed.
func New(seed uint64) *Gen {
	return &Gen{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), id: 10_000_000, ts: 1_795_000_000_000}
}

// Next returns the next order, appended to dst.
func (g *Gen) Next(dst []byte) []byte {
	r := g.r
	g.id += 1 + r.Int64N(3)
	g.ts += r.Int64N(900)
	qty := 1 + r.IntN(5)
	cents := 199 + r.IntN(250_000)
	ts := time.UnixMilli(g.ts).UTC()
	return fmt.Appendf(dst, `{"order_id":%d,"sku":"SKU-%05d","quantity":%d,"email":"%s.%s%d@%s","total":%d.%02d,"note":"%s","created_at":"%s"}`,
		g.id, r.IntN(20000), qty, first[r.IntN(len(first))], last[r.IntN(len(last))], r.IntN(1000),
		domains[r.IntN(len(domains))], cents/100, cents%100, notes[r.IntN(len(notes))], ts.Format("2006-01-02T15:04:05.000Z"))
}
