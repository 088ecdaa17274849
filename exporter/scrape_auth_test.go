package exporter

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redis-autoscaler/redis-autoscaler/test/redistest"
)

// recordingListener accepts connections and keeps every byte clients send,
// as a host an attacker names in /scrape?target= would.
type recordingListener struct {
	addr string
	mu   sync.Mutex
	got  []byte
}

func (r *recordingListener) received() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.got)
}

func listenRecording(t *testing.T) *recordingListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	r := &recordingListener{addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
					n, err := c.Read(buf)
					r.mu.Lock()
					r.got = append(r.got, buf[:n]...)
					r.mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return r
}

func status(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// /scrape?target= never sends the configured password to a host the
// operator did not name; named targets (--redis.addr, the allow-list) get
// it, and with an allow-list every other target is refused.
func TestScrapeSendsThePasswordOnlyToNamedTargets(t *testing.T) {
	const password = "scrape-Secret-pw"
	named := redistest.StartWith(t, redistest.Options{Password: password})
	other := redistest.StartWith(t, redistest.Options{Password: password})
	attacker := listenRecording(t)

	base, logs := startExporter(t, "--redis.addr", named.URL(), "--redis.password", password, "--connection-timeout", "1s")
	code, _ := status(t, base+"/scrape?target=redis://"+attacker.addr)
	assert.Equal(t, http.StatusOK, code, "an unknown target is scraped (down), as redis_exporter does")
	require.Eventually(t, func() bool { return len(attacker.received()) > 0 }, 5*time.Second, 50*time.Millisecond, "the exporter connected")
	time.Sleep(200 * time.Millisecond) // anything it would send after HELLO
	assert.NotContains(t, attacker.received(), password, "the password went to a host nobody named")

	samples, _ := fetch(t, base+"/scrape?target="+named.URL())
	up, _ := find(samples, "redis_up", map[string]string{"addr": named.URL()})
	assert.Equal(t, 1.0, up, "a --redis.addr target gets the password")
	samples, _ = fetch(t, base+"/scrape?target="+other.URL())
	up, _ = find(samples, "redis_up", map[string]string{"addr": other.URL()})
	assert.Equal(t, 0.0, up, "an unnamed Redis gets no password (NOAUTH)")
	assert.NotContains(t, logs.String(), password)

	// The allow-list names targets by pattern: those get the password,
	// everything else is refused before any connection.
	attacker2 := listenRecording(t)
	base2, _ := startExporter(t, "--redis.password", password, "--redis.addr", named.URL(),
		"--scrape.allowed-targets", fmt.Sprintf(`redis://127\.0\.0\.1:%d`, other.Port))
	samples, _ = fetch(t, base2+"/scrape?target="+other.URL())
	up, _ = find(samples, "redis_up", map[string]string{"addr": other.URL()})
	assert.Equal(t, 1.0, up, "an allowed target gets the password")
	code, body := status(t, base2+"/scrape?target=redis://"+attacker2.addr)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, body, "--scrape.allowed-targets")
	time.Sleep(200 * time.Millisecond)
	assert.Empty(t, attacker2.received(), "a refused target is never contacted")
}
