package redisreply

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// respError is an error inside a reply (go-redis gives a redis.Error there).
type respError string

// decodeRESP reads one RESP2 reply into the values go-redis gives a
// command's Val(): string, int64, []any, nil, so that tests and fuzz
// targets feed the parsers replies saved from a real server byte for byte.
func decodeRESP(text string) (any, error) {
	r := bufio.NewReader(strings.NewReader(text))
	v, err := readRESP(r, 0)
	if err != nil {
		return nil, err
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, errors.New("bytes after the reply")
	}
	return v, nil
}

func readRESP(r *bufio.Reader, depth int) (any, error) {
	if depth > 32 {
		return nil, errors.New("nested too deep")
	}
	line, err := r.ReadString('\n')
	if err != nil || len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return nil, errors.New("not a RESP line")
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return body, nil
	case '-':
		return respError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$', '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 1<<16 {
			return nil, fmt.Errorf("bad length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		if kind == '$' {
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(r, buf); err != nil || string(buf[n:]) != "\r\n" {
				return nil, errors.New("short bulk string")
			}
			return string(buf[:n]), nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(r, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown type %q", kind)
}

// realReply is a reply saved from Redis 7.0 in testdata/, decoded.
func realReply(t testing.TB, name string) any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	v, err := decodeRESP(string(raw))
	require.NoError(t, err, name)
	return v
}

// fuzzReplies fuzzes check with RESP2 replies, seeded with the saved
// replies matching pattern; inputs that are not one RESP2 reply are
// skipped, so the fuzzer explores replies, not the decoder.
func fuzzReplies(f *testing.F, pattern string, check func(t *testing.T, reply any)) {
	names, err := filepath.Glob(filepath.Join("testdata", pattern))
	require.NoError(f, err)
	require.NotEmpty(f, names, pattern)
	for _, name := range names {
		raw, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(string(raw))
	}
	f.Fuzz(func(t *testing.T, text string) {
		if v, err := decodeRESP(text); err == nil {
			check(t, v)
		}
	})
}
