package redisreply

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseScriptResult(t *testing.T) {
	failed := errors.New("ERR user_script:1: boom")
	for _, tc := range []struct {
		name  string
		reply any
		err   error
		want  ScriptResult
	}{
		{"values", []any{"a", int64(1), "b", "2.5"}, nil, ScriptResult{Name: "s", Values: map[string]float64{"a": 1, "b": 2.5}}},
		{"nothing returned", []any{}, nil, ScriptResult{Name: "s", Empty: true}},
		{"script failed", nil, failed, ScriptResult{Name: "s", Err: failed}},
		{"not an array", int64(7), nil, ScriptResult{Name: "s", Err: errors.New("the script did not return an array of key, value pairs")}},
		{"a value not a number", []any{"a", "x"}, nil, ScriptResult{Name: "s", Err: errors.New(`value of "a" is not a number`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ParseScriptResult("s", tc.reply, tc.err))
		})
	}
}

func TestParseScriptResultRealReplies(t *testing.T) {
	assert.Equal(t, map[string]float64{"a": 1, "b": 2.5}, ParseScriptResult("s", realReply(t, "script-pairs-7.0.resp"), nil).Values)
	assert.True(t, ParseScriptResult("s", realReply(t, "script-empty-7.0.resp"), nil).Empty)
	assert.Error(t, ParseScriptResult("s", realReply(t, "script-number-7.0.resp"), nil).Err)
}

// Whatever a script returns, the result is exactly one of values, empty
// or an error.
func FuzzParseScriptResult(f *testing.F) {
	fuzzReplies(f, "script-*.resp", func(t *testing.T, v any) {
		r := ParseScriptResult("s", v, nil)
		kinds := 0
		for _, is := range []bool{r.Values != nil, r.Empty, r.Err != nil} {
			if is {
				kinds++
			}
		}
		if kinds != 1 {
			t.Fatalf("%+v", r)
		}
	})
}
