package target

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Target{
		"localhost":                        {Network: "tcp", Address: "localhost:6379"},
		"10.0.0.1:7000":                    {Network: "tcp", Address: "10.0.0.1:7000"},
		"redis://h:1/2":                    {Network: "tcp", Address: "h:1", DB: 2},
		"redis://h?db=3":                   {Network: "tcp", Address: "h:6379", DB: 3},
		"redis://:pw@h:1":                  {Network: "tcp", Address: "h:1", Password: "pw"},
		"redis://user:pw@h:1":              {Network: "tcp", Address: "h:1", User: "user", Password: "pw"},
		"rediss://h:6380":                  {Network: "tcp", Address: "h:6380", TLS: true},
		"redis://[::1]:6379":               {Network: "tcp", Address: "[::1]:6379"},
		"unix:///var/run/redis/redis.sock": {Network: "unix", Address: "/var/run/redis/redis.sock"},
		"  redis://h:1  ":                  {Network: "tcp", Address: "h:1"},
	} {
		got, err := Parse(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

func TestParseErrorsHideSecrets(t *testing.T) {
	for _, in := range []string{
		"", "http://h:1", "redis://user:topsecret@h:99999", "redis://:topsecret@h:1/x",
		"redis://:topsecret@:1", "unix://", "redis://:topsecret@h:1/%zz",
	} {
		_, err := Parse(in)
		require.Error(t, err, in)
		assert.NotContains(t, err.Error(), "topsecret", in)
	}
}

func TestStringHasNoCredentials(t *testing.T) {
	tg, err := Parse("rediss://user:topsecret@h:1/2")
	require.NoError(t, err)
	assert.Equal(t, "rediss://h:1/2", tg.String())
	db3, err := Parse("redis://:pw@h:1/3")
	require.NoError(t, err)
	assert.Equal(t, "redis://h:1/3", db3.String(), "a database other than 0 is part of the label")
	assert.Equal(t, "h", tg.Host())
}

func TestRedact(t *testing.T) {
	assert.Equal(t, "redis://u:xxxxx@h:1", Redact("redis://u:pw@h:1"))
	assert.Equal(t, "redis://xxxxx@h:1", Redact("redis://pw@h:1"))
	assert.Equal(t, "redis://h:1/a@b", Redact("redis://h:1/a@b"))
	assert.Equal(t, "h:1", Redact("h:1"))
}

func TestPasswordFile(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "password")
	require.NoError(t, os.WriteFile(plain, []byte("hunter2\n"), 0o600))
	pw, m, err := LoadPasswordFile(plain)
	require.NoError(t, err)
	assert.Equal(t, "hunter2", pw)
	assert.Nil(t, m)

	// redis_exporter's format: a JSON map of address to password.
	js := filepath.Join(dir, "passwords.json")
	require.NoError(t, os.WriteFile(js, []byte(`{"redis://a:6379": "pa", "b:6379": "pb"}`), 0o600))
	pw, m, err = LoadPasswordFile(js)
	require.NoError(t, err)
	assert.Empty(t, pw)
	c := Credentials{Password: "default", PerTarget: m}
	a, _ := Parse("redis://a:6379")
	b, _ := Parse("b")
	other, _ := Parse("c")
	own, _ := Parse("redis://:mine@a:6379")
	assert.Equal(t, "pa", c.Apply(a).Password)
	assert.Equal(t, "pb", c.Apply(b).Password)
	assert.Equal(t, "default", c.Apply(other).Password)
	assert.Equal(t, "mine", c.Apply(own).Password, "a password in the address wins")

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"a": topsecret`), 0o600))
	_, _, err = LoadPasswordFile(bad)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "topsecret")

	_, _, err = LoadPasswordFile(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}

func TestTLSOptionsErrors(t *testing.T) {
	_, err := TLSOptions{CertFile: "x"}.Config()
	assert.ErrorContains(t, err, "together")
	_, err = TLSOptions{CAFile: "/nonexistent/ca.crt"}.Config()
	assert.ErrorContains(t, err, "CA")
	f := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(f, []byte("not pem"), 0o600))
	_, err = TLSOptions{CAFile: f}.Config()
	assert.ErrorContains(t, err, "no PEM")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"localhost", "redis://u:p@h:1/2", "rediss://h", "unix:///s", "redis://[::1]:1?db=2", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tg, err := Parse(in)
		if err != nil {
			return
		}
		if tg.Password != "" && len(tg.Password) > 3 {
			if s := tg.String(); strings.Contains(s, tg.Password) && !strings.Contains(tg.Address, tg.Password) {
				t.Fatalf("String() %q leaks password", s)
			}
		}
	})
}
