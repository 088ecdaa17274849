package repl

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The end mark of a diskless transfer is found wherever the reads split
// it, and nothing after it is copied.
func TestCopyUntilMark(t *testing.T) {
	mark := []byte(strings.Repeat("m", 39) + "M")
	payload := bytes.Repeat([]byte("0123456789abcdef"), 40_000)
	cases := []struct {
		name string
		r    func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte at a time", iotest.OneByteReader},
		{"half reads", iotest.HalfReader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := append(append(bytes.Clone(payload), mark...), "*1\r\n$4\r\nPING\r\n"...)
			var out bytes.Buffer
			n, err := copyUntilMark(tc.r(bytes.NewReader(in)), &out, mark)
			require.NoError(t, err)
			assert.Equal(t, int64(len(payload)), n)
			assert.Equal(t, payload, out.Bytes())
		})
	}
	t.Run("cut before the mark", func(t *testing.T) {
		var out bytes.Buffer
		_, err := copyUntilMark(bytes.NewReader(append(bytes.Clone(payload), mark[:20]...)), &out, mark)
		require.ErrorContains(t, err, "without its end mark")
	})
}

func TestReadArray(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "*2\r\n$4\r\nPING\r\n$0\r\n\r\n", want: []string{"PING", ""}},
		{in: "REPLCONF capa eof\r\n", want: []string{"REPLCONF", "capa", "eof"}},
		{in: "\n", want: nil},
		{in: "*65\r\n", err: "bad array header"},
		{in: "*1\r\n+OK\r\n", err: "bad bulk header"},
		{in: "*1\r\n$99999999\r\n", err: "bad bulk length"},
		{in: "*1\r\n$5\r\nab", err: "EOF"},
	}
	for _, tc := range cases {
		got, err := readArray(bufio.NewReader(strings.NewReader(tc.in)))
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, "%q", tc.in)
			continue
		}
		require.NoError(t, err, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

func FuzzReadArray(f *testing.F) {
	f.Add([]byte("*3\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n"))
	f.Add([]byte("PSYNC ? -1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		args, err := readArray(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && len(args) > 64 {
			t.Fatalf("%d arguments accepted", len(args))
		}
	})
}
