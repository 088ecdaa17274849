package keycheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []DBKey
		wantErr string
	}{
		{in: ""},
		{in: "queue:*", want: []DBKey{{0, "queue:*"}}},
		{in: "db3=sessions:*, 1=jobs", want: []DBKey{{3, "sessions:*"}, {1, "jobs"}}},
		{in: "a%2Cb,,c", want: []DBKey{{0, "a,b"}, {0, "c"}}},
		{in: "dbx=k", wantErr: "database"},
		{in: "db-1=k", wantErr: "database"},
		{in: "db1=", wantErr: "empty key"},
		{in: "a=b=c", wantErr: "more than one"},
		{in: "%zz", wantErr: "invalid URL escape"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzParse: any flag text parses or fails cleanly, and what parses is a
// valid database and a non-empty key.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"queue:*", "db3=sessions:*, 1=jobs", "a%2Cb,,c", "db1=", "a=b=c", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		keys, err := Parse(in)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.DB < 0 || k.DB > 65535 || k.Key == "" {
				t.Fatalf("parsed %q into %+v", in, k)
			}
		}
	})
}
