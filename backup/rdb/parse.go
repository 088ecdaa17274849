// Package rdb reads Redis RDB snapshots as a stream: it checks the header,
// walks every key of every type without building the values, and verifies
// the trailing CRC64, so a backup can be proven complete before it is kept
// and before a restore touches anything.
package rdb

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
)

// MaxVersion is the newest RDB format this package reads (Redis 7.4/8.0
// write 12; Debian's 7.0 writes 10).
const MaxVersion = 12

// Opcodes and value types (Redis' rdb.h).
const (
	opSlotInfo  = 0xF4
	opFunction2 = 0xF5
	opFunction  = 0xF6
	opModuleAux = 0xF7
	opIdle      = 0xF8
	opFreq      = 0xF9
	opAux       = 0xFA
	opResizeDB  = 0xFB
	opExpireMS  = 0xFC
	opExpireSec = 0xFD
	opSelectDB  = 0xFE
	opEOF       = 0xFF
	typeString  = 0
	typeList    = 1
	typeSet     = 2
	typeZSet    = 3
	typeHash    = 4
	typeZSet2   = 5
	typeModule  = 6
	typeModule2 = 7
	typeHashZM  = 9
	typeListZL  = 10
	typeSetIS   = 11
	typeZSetZL  = 12
	typeHashZL  = 13
	typeListQL  = 14
	typeStream  = 15
	typeHashLP  = 16
	typeZSetLP  = 17
	typeListQL2 = 18
	typeStream2 = 19
	typeSetLP   = 20
	typeStream3 = 21
)

// TypeName is the name TYPE answers for an RDB value type.
func TypeName(t byte) string {
	switch t {
	case typeString:
		return "string"
	case typeList, typeListZL, typeListQL, typeListQL2:
		return "list"
	case typeSet, typeSetIS, typeSetLP:
		return "set"
	case typeZSet, typeZSet2, typeZSetZL, typeZSetLP:
		return "zset"
	case typeHash, typeHashZM, typeHashZL, typeHashLP:
		return "hash"
	case typeStream, typeStream2, typeStream3:
		return "stream"
	case typeModule, typeModule2:
		return "module"
	}
	// 22 and 23 (Redis 7.4 hashes with field TTLs) and anything newer.
	return "unknown"
}

// Summary is what reading a whole RDB established.
type Summary struct {
	Version int `json:"rdbVersion"`
	// Aux are the file's auxiliary fields (redis-ver, ctime, repl-id,
	// repl-offset, ...).
	Aux map[string]string `json:"aux,omitempty"`
	// DBs has one entry per non-empty database, by number.
	DBs  []DBStats `json:"dbs"`
	Keys int64     `json:"keys"`
	// Checksum is the content's CRC64: what the file carries and matched,
	// or, when Redis ran with rdbchecksum no (ChecksumDisabled, the file
	// carries 0), computed here.
	Checksum         uint64 `json:"crc64"`
	ChecksumDisabled bool   `json:"checksumDisabled,omitempty"`
	Size             int64  `json:"size"`
	// Sample is a uniform sample of the keys (Options.SampleSize).
	Sample []Key `json:"sample,omitempty"`
	// Expiring holds, per database, the expiry times (Unix ms) of keys
	// that expire before Options.ExpiryHorizon (not serialized).
	Expiring map[int][]int64 `json:"-"`
}

// DBStats counts one database's keys.
type DBStats struct {
	DB      int   `json:"db"`
	Keys    int64 `json:"keys"`
	Expires int64 `json:"expires"`
}

// Key is one sampled key.
type Key struct {
	DB   int    `json:"db"`
	Name string `json:"key"`
	Type string `json:"type"`
	// ExpireMS is the key's expiry (Unix ms), 0 for none.
	ExpireMS int64 `json:"expireMs,omitempty"`
	// SHA256 of a string value as GET returns it (first 16 bytes, hex).
	SHA256 string `json:"sha256,omitempty"`
}

// Options tune Read.
type Options struct {
	// SampleSize keys are sampled uniformly (0: none).
	SampleSize int
	// ExpiryHorizon: keys expiring before this Unix ms time have their
	// expiry recorded in Summary.Expiring (0: none recorded).
	ExpiryHorizon int64
}

// Error is a corrupt or unsupported RDB, with where it was found.
type Error struct {
	Offset int64
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("rdb: at byte %d: %v", e.Offset, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// ErrChecksum is a file whose content does not match its CRC64.
var ErrChecksum = errors.New("checksum mismatch")

// Read reads one whole RDB from r and verifies it: header, every record,
// the checksum, and that nothing follows it.
func Read(r io.Reader, o Options) (*Summary, error) {
	p := &parser{d: newReader(r), o: o, s: &Summary{Aux: map[string]string{}}, dbs: map[int]*DBStats{}}
	p.rng = rand.New(rand.NewPCG(1, 2)) // reproducible samples
	err := p.run()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			err = &Error{Offset: p.d.offset(), Err: err}
		}
		return nil, err
	}
	for _, db := range p.dbs {
		p.s.DBs = append(p.s.DBs, *db)
	}
	sort.Slice(p.s.DBs, func(i, j int) bool { return p.s.DBs[i].DB < p.s.DBs[j].DB })
	sort.Slice(p.s.Sample, func(i, j int) bool {
		a, b := p.s.Sample[i], p.s.Sample[j]
		return a.DB < b.DB || a.DB == b.DB && a.Name < b.Name
	})
	p.s.Size = p.d.offset()
	return p.s, nil
}

type parser struct {
	d   *reader
	o   Options
	s   *Summary
	dbs map[int]*DBStats
	rng *rand.Rand
}

func (p *parser) run() error {
	hdr, err := p.d.next(9)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if string(hdr[:5]) != "REDIS" {
		return errors.New("not an RDB file (no REDIS header)")
	}
	v, err := strconv.Atoi(string(hdr[5:]))
	if err != nil || v < 1 {
		return fmt.Errorf("bad RDB version %q", hdr[5:])
	}
	if v > MaxVersion {
		return fmt.Errorf("RDB version %d is newer than this tool reads (<= %d)", v, MaxVersion)
	}
	p.s.Version = v
	db := 0
	var expire int64
	for {
		at := p.d.offset()
		op, err := p.d.byte()
		if err != nil {
			return err
		}
		switch op {
		case opAux:
			k, err := p.d.str(true)
			if err != nil {
				return err
			}
			v, err := p.d.str(true)
			if err != nil {
				return err
			}
			p.s.Aux[string(k)] = string(v)
		case opSelectDB:
			n, err := p.d.count()
			if err != nil {
				return err
			}
			if n > 1<<20 {
				return fmt.Errorf("database number %d is implausible", n)
			}
			db = int(n)
		case opResizeDB:
			if err := p.counts(2); err != nil {
				return err
			}
		case opSlotInfo:
			if err := p.counts(3); err != nil {
				return err
			}
		case opExpireSec:
			s, err := p.d.uint32LE()
			if err != nil {
				return err
			}
			expire = int64(s) * 1000
			continue
		case opExpireMS:
			ms, err := p.d.uint64LE()
			if err != nil {
				return err
			}
			expire = int64(ms)
			continue
		case opFreq:
			if _, err := p.d.byte(); err != nil {
				return err
			}
			continue
		case opIdle:
			if _, err := p.d.count(); err != nil {
				return err
			}
			continue
		case opModuleAux:
			if err := p.counts(3); err != nil { // module id, when opcode, when
				return err
			}
			if err := p.moduleValue(); err != nil {
				return err
			}
		case opFunction2:
			if _, err := p.d.str(false); err != nil {
				return err
			}
		case opFunction:
			return errors.New("pre-release function records (Redis 7.0 RC) are not supported")
		case opEOF:
			return p.trailer()
		default:
			if err := p.key(db, op, expire); err != nil {
				return &Error{Offset: at, Err: err}
			}
		}
		expire = 0
	}
}

func (p *parser) trailer() error {
	want := p.d.sum()
	p.s.Checksum = want
	if p.s.Version >= 5 {
		got, err := p.d.uint64LE()
		if err != nil {
			return fmt.Errorf("checksum: %w", err)
		}
		switch got {
		case want:
		case 0:
			p.s.ChecksumDisabled = true
		default:
			return fmt.Errorf("%w: file says %016x, content is %016x", ErrChecksum, got, want)
		}
	}
	if !p.d.atEOF() {
		if p.d.err != nil && !errors.Is(p.d.err, io.ErrUnexpectedEOF) {
			return p.d.err
		}
		return errors.New("data after the end of the RDB")
	}
	return nil
}

func (p *parser) counts(n int) error {
	for range n {
		if _, err := p.d.count(); err != nil {
			return err
		}
	}
	return nil
}

// key reads one key and its value.
func (p *parser) key(db int, t byte, expire int64) error {
	if TypeName(t) == "unknown" || t == typeModule {
		return fmt.Errorf("unsupported value type %d (written by a newer Redis, or a module this tool cannot read)", t)
	}
	name, err := p.d.str(true)
	if err != nil {
		return err
	}
	st := p.dbs[db]
	if st == nil {
		st = &DBStats{DB: db}
		p.dbs[db] = st
	}
	st.Keys++
	p.s.Keys++
	if expire != 0 {
		st.Expires++
		if expire < p.o.ExpiryHorizon {
			if p.s.Expiring == nil {
				p.s.Expiring = map[int][]int64{}
			}
			p.s.Expiring[db] = append(p.s.Expiring[db], expire)
		}
	}
	// Reservoir sampling decides before the value is read, so only sampled
	// strings are read into memory.
	slot := -1
	if p.o.SampleSize > 0 {
		if len(p.s.Sample) < p.o.SampleSize {
			slot = len(p.s.Sample)
			p.s.Sample = append(p.s.Sample, Key{})
		} else if j := p.rng.Int64N(p.s.Keys); j < int64(p.o.SampleSize) {
			slot = int(j)
		}
	}
	var digest string
	if t == typeString && slot >= 0 {
		v, err := p.d.str(true)
		if err != nil {
			return err
		}
		digest = Digest(v)
	} else if err := p.value(t); err != nil {
		return fmt.Errorf("key %q: %w", truncate(name), err)
	}
	if slot >= 0 {
		p.s.Sample[slot] = Key{DB: db, Name: string(name), Type: TypeName(t), ExpireMS: expire, SHA256: digest}
	}
	return nil
}

// Digest is how a sampled string value is recorded: the first 16 bytes of
// its SHA-256, hex.
func Digest(v []byte) string {
	sum := sha256.Sum256(v)
	return hex.EncodeToString(sum[:16])
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// value skips one value of type t.
func (p *parser) value(t byte) error {
	d := p.d
	switch t {
	case typeString, typeHashZM, typeListZL, typeSetIS, typeZSetZL, typeHashZL, typeHashLP, typeZSetLP, typeSetLP:
		_, err := d.str(false)
		return err
	case typeList, typeSet, typeListQL:
		return p.strings(1, 0)
	case typeHash:
		return p.strings(2, 0)
	case typeZSet2:
		return p.strings(1, 8)
	case typeZSet:
		n, err := d.count()
		if err != nil {
			return err
		}
		for range n {
			if _, err := d.str(false); err != nil {
				return err
			}
			l, err := d.byte()
			if err != nil {
				return err
			}
			if l < 253 { // 253-255: NaN, +inf, -inf
				if err := d.skip(uint64(l), nil); err != nil {
					return err
				}
			}
		}
		return nil
	case typeListQL2:
		n, err := d.count()
		if err != nil {
			return err
		}
		for range n {
			if _, err := d.count(); err != nil { // container: plain or packed
				return err
			}
			if _, err := d.str(false); err != nil {
				return err
			}
		}
		return nil
	case typeModule2:
		if _, err := d.count(); err != nil { // module id
			return err
		}
		return p.moduleValue()
	case typeStream, typeStream2, typeStream3:
		return p.stream(t)
	}
	return fmt.Errorf("unsupported value type %d", t)
}

// strings skips a count followed by count×per strings, each followed by
// extra raw bytes.
func (p *parser) strings(per int, extra uint64) error {
	n, err := p.d.count()
	if err != nil {
		return err
	}
	for range n {
		for range per {
			if _, err := p.d.str(false); err != nil {
				return err
			}
		}
		if extra > 0 {
			if err := p.d.skip(extra, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// moduleValue skips a module's self-describing value up to its EOF opcode.
func (p *parser) moduleValue() error {
	for {
		op, err := p.d.count()
		if err != nil {
			return err
		}
		switch op {
		case 0: // EOF
			return nil
		case 1, 2: // signed, unsigned integer
			_, err = p.d.count()
		case 3: // float
			_, err = p.d.next(4)
		case 4: // double
			_, err = p.d.next(8)
		case 5: // string
			_, err = p.d.str(false)
		default:
			return fmt.Errorf("unknown module opcode %d", op)
		}
		if err != nil {
			return err
		}
	}
}

// stream skips a stream: its listpacks, metadata, consumer groups with
// their pending entries and consumers.
func (p *parser) stream(t byte) error {
	d := p.d
	n, err := d.count()
	if err != nil {
		return err
	}
	for range n {
		if _, err := d.str(false); err != nil { // master ID
			return err
		}
		if _, err := d.str(false); err != nil { // listpack
			return err
		}
	}
	meta := 3 // length, last ID ms, seq
	if t >= typeStream2 {
		meta += 5 // first ID, max deleted ID, entries added
	}
	if err := p.counts(meta); err != nil {
		return err
	}
	groups, err := d.count()
	if err != nil {
		return err
	}
	for range groups {
		if _, err := d.str(false); err != nil {
			return err
		}
		gm := 2 // last delivered ID
		if t >= typeStream2 {
			gm++ // entries read
		}
		if err := p.counts(gm); err != nil {
			return err
		}
		pel, err := d.count()
		if err != nil {
			return err
		}
		for range pel {
			if err := d.skip(16+8, nil); err != nil { // ID, delivery time
				return err
			}
			if _, err := d.count(); err != nil { // delivery count
				return err
			}
		}
		consumers, err := d.count()
		if err != nil {
			return err
		}
		for range consumers {
			if _, err := d.str(false); err != nil {
				return err
			}
			times := uint64(8) // seen time
			if t >= typeStream3 {
				times += 8 // active time
			}
			if err := d.skip(times, nil); err != nil {
				return err
			}
			cp, err := d.count()
			if err != nil {
				return err
			}
			if cp > maxString {
				return fmt.Errorf("consumer PEL of %d entries is implausible", cp)
			}
			if err := d.skip(16*cp, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
