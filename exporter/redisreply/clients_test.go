package redisreply

import "testing"

func TestParseClientList(t *testing.T) {
	in := "id=3 addr=127.0.0.1:50100 laddr=127.0.0.1:6379 fd=8 name=worker age=12 idle=2 flags=N db=0 sub=1 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=20474 argv-mem=10 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22298 events=r cmd=client|list user=default redir=-1 resp=2\n" +
		"garbage without id\n" +
		"id=4 addr=[::1]:6000 name= flags=S\n"
	cs := ParseClientList(in)
	if len(cs) != 2 {
		t.Fatalf("got %d clients", len(cs))
	}
	if cs[0].Fields["name"] != "worker" || cs[0].Host != "127.0.0.1" || cs[0].Port != "50100" || cs[0].Fields["tot-mem"] != "22298" {
		t.Fatalf("first client: %+v", cs[0])
	}
	if cs[1].Host != "::1" || cs[1].Fields["name"] != "" {
		t.Fatalf("second client: %+v", cs[1])
	}
}

func FuzzParseClientList(f *testing.F) {
	f.Add("id=3 addr=127.0.0.1:50100 name=worker age=12 idle=2 flags=N db=0 omem=0 tot-mem=22298\n")
	f.Add("id= addr=:::\nid=1 ===\n")
	f.Fuzz(func(t *testing.T, in string) {
		for _, c := range ParseClientList(in) {
			if c.Fields["id"] == "" {
				t.Fatalf("client without id from %q", in)
			}
		}
	})
}
