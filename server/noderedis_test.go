package server

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNodeRedis3 runs node-redis 3, the client of the article's functions
// and worker, unchanged against mullet. Its ready check sends INFO on
// connect and accepts only a reply with loading:0; then a function's LPUSH
// of a JSON order, the worker's BRPOP, a MULTI, and a nil reply. The
// module is installed by `make test` (npm ci in testdata/node); the test
// fails, never skips, without node or the module.
func TestNodeRedis3(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required (Debian: apt-get install nodejs): %v", err)
	}
	dir, _ := filepath.Abs("testdata/node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "redis")); err != nil {
		t.Fatalf("node-redis 3 is not installed: run npm ci --prefix server/testdata/node (make test does): %v", err)
	}
	var got struct {
		Version string   `json:"server_info_version"`
		LPush   int      `json:"lpush"`
		BRPop   []string `json:"brpop"`
		Order   struct {
			ID    int     `json:"id"`
			Total float64 `json:"total"`
		} `json:"order"`
		Multi []json.RawMessage `json:"multi"`
		Nil   *string           `json:"nil"`
	}
	runClient(t, "node-redis 3", dir, &got, node, "client.js")
	if got.Version != Version || got.LPush != 1 || len(got.BRPop) != 2 || got.BRPop[0] != "order_queue" ||
		got.Order.ID != 7 || got.Order.Total != 9.5 || len(got.Multi) != 2 || got.Nil != nil {
		t.Fatalf("node-redis 3 saw %+v", got)
	}
}
