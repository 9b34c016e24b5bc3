package server

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestRedisPy runs redis-py (Debian's python3-redis, which .ci/run
// installs), unchanged, against mullet: INFO, CLIENT SETNAME, a
// function's LPUSH of a JSON order and the worker's BRPOP, a BRPOP that
// times out, MULTI/EXEC and plain pipelines, LMOVE and LPOS, error
// replies as exceptions, and a WATCH that another client breaks. The test
// fails, never skips, without python3 or the module.
func TestRedisPy(t *testing.T) {
	// Debian's python3 first: apt installs python3-redis there, and a
	// python3 earlier in PATH (pyenv) may lack the module.
	var py string
	var tried []string
	for _, c := range []string{"/usr/bin/python3", "python3"} {
		p, err := exec.LookPath(c)
		if err != nil {
			tried = append(tried, c+": "+err.Error())
			continue
		}
		if out, err := exec.Command(p, "-c", "import redis").CombinedOutput(); err != nil {
			tried = append(tried, p+": "+strings.TrimSpace(string(out)))
			continue
		}
		py = p
		break
	}
	if py == "" {
		t.Fatalf("redis-py is not installed (Debian: apt-get install python3-redis; .ci/run does): %s",
			strings.Join(tried, "; "))
	}
	var got struct {
		Ping         bool             `json:"ping"`
		Version      string           `json:"redis_version"`
		Loading      int              `json:"loading"`
		Name         string           `json:"name"`
		LPush        int              `json:"lpush"`
		BRPopKey     string           `json:"brpop_key"`
		Order        struct{ ID int } `json:"order"`
		BRPopTimeout *string          `json:"brpop_timeout"`
		Multi        []any            `json:"multi"`
		PipelineLLen int              `json:"pipeline_llen"`
		LMove        string           `json:"lmove"`
		LPos         int              `json:"lpos"`
		WrongType    string           `json:"wrongtype"`
		Unknown      string           `json:"unknown"`
		Watch        string           `json:"watch"`
		S            string           `json:"s"`
		DBSize       int              `json:"dbsize"`
	}
	runClient(t, "redis-py", "testdata/redispy", &got, py, "client.py")
	multi, _ := json.Marshal(got.Multi)
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"PING", got.Ping, true},
		{"INFO redis_version", got.Version, Version},
		{"INFO loading", got.Loading, 0},
		{"CLIENT GETNAME", got.Name, "py-worker"},
		{"LPUSH", got.LPush, 1},
		{"BRPOP key", got.BRPopKey, "order_queue"},
		{"BRPOP order id", got.Order.ID, 7},
		{"BRPOP timeout", got.BRPopTimeout, (*string)(nil)},
		{"MULTI pipeline", string(multi), `[3,3,["x","y","z"],["x","y"]]`},
		{"pipeline LLEN", got.PipelineLLen, 100},
		{"LMOVE", got.LMove, "99"},
		{"LPOS", got.LPos, 50},
		{"WRONGTYPE", got.WrongType, "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"unknown command", got.Unknown, "unknown command 'NOSUCHCOMMAND', with args beginning with: "},
		{"WATCH", got.Watch, "aborted"},
		{"GET after the aborted transaction", got.S, "changed"},
		{"DBSIZE", got.DBSize, 4},
	} {
		if g, w := jsonOf(c.got), jsonOf(c.want); g != w {
			t.Errorf("redis-py %s = %s, want %s", c.what, g, w)
		}
	}
}

// runClient runs a client program (argv, in dir) against a fresh mullet
// whose port it gets as its last argument, and decodes the JSON it prints
// on stdout into got. A failure reports stdout and stderr.
func runClient(t *testing.T, name, dir string, got any, argv ...string) {
	t.Helper()
	ts := startServer(t)
	port := ts.addr[strings.LastIndexByte(ts.addr, ':')+1:]
	cmd := exec.Command(argv[0], append(argv[1:], port)...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s client failed: %v\n%s%s", name, err, out, stderr.String())
	}
	if err := json.Unmarshal(out, got); err != nil {
		t.Fatalf("%s client output %q: %v", name, out, err)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
