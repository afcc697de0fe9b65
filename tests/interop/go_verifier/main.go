// Command go_verifier checks a log published by rempart with Go's own implementation of the
// same standards: golang.org/x/mod/sumdb/note (C2SP signed notes are Go notes) and
// golang.org/x/mod/sumdb/tlog (RFC 6962 hashing, tiles, inclusion and consistency proofs).
//
// It is an independent second implementation for rempart's interoperability tests
// (tests/interop/test_go_verifier.py); it shares no code with rempart and uses only the Go
// standard library and x/mod.
//
// Usage:
//
//	go_verifier verify -log DIR -vkey VKEY [-old FILE]...
//	    Verify the C2SP tlog-tiles log under DIR against its signed checkpoint DIR/checkpoint:
//	    the signature (note.Open), the tree (tlog.TileHashReader + tlog.TreeHash), every entry
//	    bundle and every leaf (tlog.RecordHash, tlog.ProveRecord + tlog.CheckRecord), and, for
//	    each older signed checkpoint FILE, that its tree is a prefix of the latest one
//	    (tlog.ProveTree + tlog.CheckTree). Then, independently of the tile reader, rebuild the
//	    log from its entries (tlog.StoredHashes) and check every signed root and every hash
//	    tile of every signed size against it (tlog.ReadTileData). Prints a JSON summary; exits
//	    1 on the first failure.
//	go_verifier keygen NAME
//	    Print a new signer key and its verifier key (note.GenerateKey), one per line.
//	go_verifier sign -skey SKEY
//	    Sign the note text read from stdin (note.Sign); write the signed note to stdout.
//	go_verifier open -vkey VKEY
//	    Open the signed note read from stdin (note.Open); print its text as JSON; exit 1 if
//	    it does not verify.
//	go_verifier cosigned -vkey VKEY -witness WVKEY... -k K
//	    Open the signed checkpoint read from stdin with the log's key (note.Open: witness lines
//	    are signatures by keys it does not know), then check each witness's cosignature/v1
//	    (C2SP tlog-cosignature) with crypto/ed25519: key ID SHA-256(name || 0x0A || 0x04 ||
//	    key)[:4], a 72-byte signature (big-endian timestamp || Ed25519), over
//	    "cosignature/v1\ntime <timestamp>\n" || checkpoint body. Prints the witnesses whose
//	    cosignature verified; exits 1 when fewer than K did, or when one is present but wrong.
//
// VKEY is a verifier key string, or @PATH for a file holding one (surrounding space ignored).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is C2SP tlog-tiles' fixed tile height: 2**8 = 256 hashes or entries per tile.
const tileHeight = 8

// checkpoint is the parsed body of a C2SP tlog-checkpoint note.
type checkpoint struct {
	Origin string
	Tree   tlog.Tree
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if len(os.Args) < 2 {
		fail("usage: go_verifier verify|keygen|sign|open ...")
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "verify":
		err = runVerify(args)
	case "keygen":
		err = runKeygen(args)
	case "sign":
		err = runSign(args)
	case "open":
		err = runOpen(args)
	case "cosigned":
		err = runCosigned(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fail(err.Error())
	}
}

// fail prints a JSON failure line and exits 1.
func fail(msg string) {
	out, _ := json.Marshal(map[string]interface{}{"ok": false, "error": msg})
	fmt.Println(string(out))
	os.Exit(1)
}

func printJSON(v interface{}) {
	out, err := json.Marshal(v)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(string(out))
}

// ---------------------------------------------------------------------------------------------
// Keys and notes

// loadVerifier builds a note verifier from a key string or @file.
func loadVerifier(vkey string) (note.Verifier, error) {
	if strings.HasPrefix(vkey, "@") {
		data, err := os.ReadFile(vkey[1:])
		if err != nil {
			return nil, err
		}
		vkey = string(data)
	}
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	return v, nil
}

func runKeygen(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: go_verifier keygen NAME")
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, args[0])
	if err != nil {
		return err
	}
	fmt.Println(skey)
	fmt.Println(vkey)
	return nil
}

func runSign(args []string) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	skey := fs.String("skey", "", "signer key (PRIVATE+KEY+...)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	signer, err := note.NewSigner(*skey)
	if err != nil {
		return fmt.Errorf("signer key: %w", err)
	}
	text, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(msg)
	return err
}

// openStdin opens the signed note read from stdin with the verifier key vkey (note.Open).
func openStdin(vkey string) (*note.Note, error) {
	v, err := loadVerifier(vkey)
	if err != nil {
		return nil, err
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		return nil, err
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("note.Open: %w", err)
	}
	return n, nil
}

func runOpen(args []string) error {
	fs := flag.NewFlagSet("open", flag.ContinueOnError)
	vkey := fs.String("vkey", "", "verifier key, or @file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n, err := openStdin(*vkey)
	if err != nil {
		return err
	}
	printJSON(map[string]interface{}{"ok": true, "text": n.Text, "signatures": len(n.Sigs), "unverified": len(n.UnverifiedSigs)})
	return nil
}

// witnessKey is a cosignature/v1 verifier key: name+<8 hex key ID>+base64(0x04 || Ed25519 key).
type witnessKey struct {
	Name string
	ID   uint32
	Key  ed25519.PublicKey
}

func parseWitnessKey(vkey string) (witnessKey, error) {
	parts := strings.SplitN(strings.TrimSpace(vkey), "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return witnessKey{}, fmt.Errorf("witness key %q: want name+hash+key", vkey)
	}
	id, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return witnessKey{}, fmt.Errorf("witness key %q: bad key ID", vkey)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 0x04 {
		return witnessKey{}, fmt.Errorf("witness key %q: want 0x04 and a 32-byte Ed25519 key", vkey)
	}
	sum := sha256.Sum256(append([]byte(parts[0]+"\n\x04"), raw[1:]...))
	if binary.BigEndian.Uint32(sum[:4]) != uint32(id) {
		return witnessKey{}, fmt.Errorf("witness key %q: key ID does not match", vkey)
	}
	return witnessKey{parts[0], uint32(id), ed25519.PublicKey(raw[1:])}, nil
}

func runCosigned(args []string) error {
	fs := flag.NewFlagSet("cosigned", flag.ContinueOnError)
	vkey := fs.String("vkey", "", "the log's verifier key, or @file")
	k := fs.Int("k", 1, "how many witnesses must have cosigned")
	var witnesses stringList
	fs.Var(&witnesses, "witness", "a witness's cosignature/v1 verifier key (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n, err := openStdin(*vkey)
	if err != nil {
		return err
	}
	var cosigned []string
	times := map[string]uint64{}
	for _, w := range witnesses {
		key, err := parseWitnessKey(w)
		if err != nil {
			return err
		}
		for _, sig := range n.UnverifiedSigs {
			if sig.Name != key.Name || sig.Hash != key.ID {
				continue
			}
			raw, err := base64.StdEncoding.Strict().DecodeString(sig.Base64)
			if err != nil || len(raw) != 4+8+ed25519.SignatureSize {
				return fmt.Errorf("cosignature of %s: want 76 bytes", key.Name)
			}
			ts := binary.BigEndian.Uint64(raw[4:12])
			signed := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, n.Text)
			if ts == 0 || ts >= 1<<63 || !ed25519.Verify(key.Key, []byte(signed), raw[12:]) {
				return fmt.Errorf("cosignature of %s does not verify", key.Name)
			}
			cosigned = append(cosigned, key.Name)
			times[key.Name] = ts
		}
	}
	if len(cosigned) < *k {
		return fmt.Errorf("%d witness cosignature(s), %d needed", len(cosigned), *k)
	}
	printJSON(map[string]interface{}{"ok": true, "cosigned": cosigned, "timestamps": times})
	return nil
}

// openCheckpoint verifies a signed checkpoint with Go's note package and parses its body:
//
//	<origin>\n<decimal tree size>\n<base64 root hash>\n[<extension line>\n]...
//
// The log's key name must equal the origin (C2SP tlog-checkpoint recommends it; rempart does it).
func openCheckpoint(msg []byte, v note.Verifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return checkpoint{}, fmt.Errorf("note.Open: %w", err)
	}
	lines := strings.Split(n.Text, "\n") // the text ends in "\n": the last element is ""
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return checkpoint{}, errors.New("checkpoint: want origin, size and root lines")
	}
	origin := lines[0]
	if origin == "" {
		return checkpoint{}, errors.New("checkpoint: empty origin")
	}
	if origin != v.Name() {
		return checkpoint{}, fmt.Errorf("checkpoint: origin %q is not the key name %q", origin, v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, fmt.Errorf("checkpoint: bad tree size %q", lines[1])
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return checkpoint{}, fmt.Errorf("checkpoint: bad root hash %q", lines[2])
	}
	for _, ext := range lines[3 : len(lines)-1] {
		if ext == "" {
			return checkpoint{}, errors.New("checkpoint: empty extension line")
		}
	}
	cp := checkpoint{Origin: origin, Tree: tlog.Tree{N: size}}
	copy(cp.Tree.Hash[:], root)
	return cp, nil
}

// ---------------------------------------------------------------------------------------------
// The C2SP tlog-tiles layout under a directory

// c2spPath maps a Go tlog.Tile to its C2SP path. Go's Tile.Path is tile/<H>/<L>/<N>[.p/<W>],
// with L = "data" for record tiles; C2SP fixes H = 8 and leaves it out, and calls the record
// level "entries": tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]. The index N is spelled the
// same way in both (3-digit groups, all but the last prefixed with "x": x001/x234/067), so it
// is taken from Go's own encoding.
func c2spPath(t tlog.Tile) string {
	goPath := t.Path() // tile/8/<L or data>/<N>[.p/<W>]
	prefix := "tile/" + strconv.Itoa(tileHeight) + "/"
	if t.H != tileHeight || !strings.HasPrefix(goPath, prefix) {
		panic(fmt.Sprintf("tile %+v is not a C2SP tile", t))
	}
	rest := goPath[len(prefix):]
	if t.L == -1 {
		rest = "entries" + strings.TrimPrefix(rest, "data")
	}
	return "tile/" + rest
}

// dirTiles is a tlog.TileReader over a C2SP tiled log in a directory. It checks only tile
// lengths: authenticating tiles against the signed tree is tlog.TileHashReader's job, and
// verify checks every tile once more against the log rebuilt from its entries.
type dirTiles struct {
	dir   string
	cache map[string][]byte
	reads int // distinct tile files read
}

func (d *dirTiles) Height() int { return tileHeight }

func (d *dirTiles) read(path string) ([]byte, error) {
	if data, ok := d.cache[path]; ok {
		return data, nil
	}
	data, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(path)))
	if err != nil {
		return nil, err
	}
	d.cache[path] = data
	d.reads++
	return data, nil
}

func (d *dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if t.H != tileHeight || t.L < 0 {
			return nil, fmt.Errorf("unexpected tile request %+v", t)
		}
		data, err := d.read(c2spPath(t))
		if err != nil {
			return nil, err
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, want %d", c2spPath(t), len(data), t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

// SaveTiles is called for tiles TileHashReader has authenticated; nothing to persist here.
func (d *dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// parseBundle splits a C2SP entry bundle into exactly want entries, each a big-endian uint16
// length followed by that many bytes; truncation and trailing bytes are errors.
func parseBundle(data []byte, want int) ([][]byte, error) {
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("truncated length prefix")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, errors.New("truncated entry")
		}
		entries = append(entries, data[2:2+n])
		data = data[2+n:]
	}
	if len(entries) != want {
		return nil, fmt.Errorf("%d entries, want %d", len(entries), want)
	}
	return entries, nil
}

// hashStore is every stored hash of a log in Go's storage order (tlog.StoredHashIndex), kept in
// memory: the log rebuilt from its entries alone, as Go's sumdb server keeps it.
type hashStore []tlog.Hash

func (s hashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("stored hash %d not in the rebuilt log", x)
		}
		out[i] = s[x]
	}
	return out, nil
}

// tilesForSize lists the hash tiles of a tree of size leaves, C2SP style: at each level the
// full tiles, then the partial tile at the right edge if the level's width is not a multiple
// of 256. (Go's tlog.NewTiles would also list every narrower partial tile in between.)
func tilesForSize(size int64) []tlog.Tile {
	var tiles []tlog.Tile
	for level := 0; size>>(tileHeight*level) > 0; level++ {
		width := size >> (tileHeight * level) // hashes at this tile level
		for n := int64(0); n < width>>tileHeight; n++ {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: level, N: n, W: 1 << tileHeight})
		}
		if w := width % (1 << tileHeight); w > 0 {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: level, N: width >> tileHeight, W: int(w)})
		}
	}
	return tiles
}

// ---------------------------------------------------------------------------------------------
// verify

type summary struct {
	OK          bool     `json:"ok"`
	Origin      string   `json:"origin"`
	Size        int64    `json:"size"`
	Root        string   `json:"root"`
	Leaves      int64    `json:"leaves_checked"`
	Bundles     int      `json:"bundles_checked"`
	Tiles       int      `json:"tiles_checked"`
	Consistency []string `json:"consistent_with,omitempty"`
	Checks      []string `json:"checks"`
}

var emptyRoot = tlog.Hash(sha256.Sum256(nil)) // RFC 6962's MTH({}); Go's tlog.TreeHash(0) is all zeroes

func runVerify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	dir := fs.String("log", "", "directory of the published log")
	vkey := fs.String("vkey", "", "the log's verifier key, or @file")
	var olds stringList
	fs.Var(&olds, "old", "an older signed checkpoint file (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *vkey == "" {
		return errors.New("usage: go_verifier verify -log DIR -vkey VKEY [-old FILE]...")
	}
	v, err := loadVerifier(*vkey)
	if err != nil {
		return err
	}
	s := summary{}

	// (1, 2) The signed checkpoint: Go's note.Open, then origin / size / root.
	msg, err := os.ReadFile(filepath.Join(*dir, "checkpoint"))
	if err != nil {
		return err
	}
	cp, err := openCheckpoint(msg, v)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	s.Origin, s.Size, s.Root = cp.Origin, cp.Tree.N, base64.StdEncoding.EncodeToString(cp.Tree.Hash[:])
	s.Checks = append(s.Checks, "checkpoint signature (note.Open)")
	if cp.Tree.N == 0 && cp.Tree.Hash != emptyRoot {
		return errors.New("empty tree: root is not SHA-256 of the empty string")
	}

	// Older checkpoints, opened up front so that their tiles are checked below too.
	var older []checkpoint
	for _, file := range olds {
		msg, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		old, err := openCheckpoint(msg, v)
		if err != nil {
			return fmt.Errorf("old checkpoint %s: %w", file, err)
		}
		if old.Origin != cp.Origin || old.Tree.N > cp.Tree.N {
			return fmt.Errorf("old checkpoint %s: origin %q size %d cannot precede %q size %d", file, old.Origin, old.Tree.N, cp.Origin, cp.Tree.N)
		}
		if old.Tree.N == 0 && old.Tree.Hash != emptyRoot {
			return fmt.Errorf("old checkpoint %s: empty tree with a wrong root", file)
		}
		older = append(older, old)
	}

	// (4a) Every entry bundle: tile/entries/<N>[.p/<W>], W entries each.
	var entries [][]byte
	for start := int64(0); start < cp.Tree.N; start += 1 << tileHeight {
		width := cp.Tree.N - start
		if width > 1<<tileHeight {
			width = 1 << tileHeight
		}
		bundle := tlog.Tile{H: tileHeight, L: -1, N: start >> tileHeight, W: int(width)}
		data, err := os.ReadFile(filepath.Join(*dir, filepath.FromSlash(c2spPath(bundle))))
		if err != nil {
			return fmt.Errorf("entry bundle: %w", err)
		}
		got, err := parseBundle(data, int(width))
		if err != nil {
			return fmt.Errorf("%s: %w", c2spPath(bundle), err)
		}
		entries = append(entries, got...)
		s.Bundles++
	}

	tiles := &dirTiles{dir: *dir, cache: map[string][]byte{}}
	if cp.Tree.N > 0 {
		// (3) The tree as a client sees it: tiles authenticated by tlog.TileHashReader against
		// the checkpoint, and the root recomputed from them by tlog.TreeHash.
		hr := tlog.TileHashReader(cp.Tree, tiles)
		th, err := tlog.TreeHash(cp.Tree.N, hr)
		if err != nil {
			return fmt.Errorf("tree hash: %w", err)
		}
		if th != cp.Tree.Hash {
			return fmt.Errorf("tree hash %v does not match the checkpoint's root %v", th, cp.Tree.Hash)
		}
		s.Checks = append(s.Checks, "tree hash from tiles (tlog.TileHashReader, tlog.TreeHash)")

		// (4b) Every leaf: its hash in the level-0 tile is tlog.RecordHash of its entry, and
		// an inclusion proof built from the tiles checks against the signed root.
		for i, entry := range entries {
			n := int64(i)
			rh := tlog.RecordHash(entry)
			stored, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, n)})
			if err != nil {
				return fmt.Errorf("leaf %d: %w", n, err)
			}
			if stored[0] != rh {
				return fmt.Errorf("leaf %d: entry hash %v is not the tile's leaf hash %v", n, rh, stored[0])
			}
			proof, err := tlog.ProveRecord(cp.Tree.N, n, hr)
			if err != nil {
				return fmt.Errorf("leaf %d: ProveRecord: %w", n, err)
			}
			if err := tlog.CheckRecord(proof, cp.Tree.N, cp.Tree.Hash, n, rh); err != nil {
				return fmt.Errorf("leaf %d: CheckRecord: %w", n, err)
			}
			s.Leaves++
		}
		s.Checks = append(s.Checks, "entry bundles and leaf hashes (tlog.RecordHash)", "inclusion proofs (tlog.ProveRecord, tlog.CheckRecord)")

		// (5) Each older tree: its own (partial) tiles give its root, and the latest tree
		// provably extends it.
		for _, old := range older {
			if old.Tree.N > 0 {
				oh, err := tlog.TreeHash(old.Tree.N, tlog.TileHashReader(old.Tree, tiles))
				if err != nil {
					return fmt.Errorf("old checkpoint %d: tree hash: %w", old.Tree.N, err)
				}
				if oh != old.Tree.Hash {
					return fmt.Errorf("old checkpoint %d: its tiles do not give its root", old.Tree.N)
				}
				proof, err := tlog.ProveTree(cp.Tree.N, old.Tree.N, hr)
				if err != nil {
					return fmt.Errorf("old checkpoint %d: ProveTree: %w", old.Tree.N, err)
				}
				if err := tlog.CheckTree(proof, cp.Tree.N, cp.Tree.Hash, old.Tree.N, old.Tree.Hash); err != nil {
					return fmt.Errorf("old checkpoint %d: CheckTree: %w", old.Tree.N, err)
				}
			}
			s.Consistency = append(s.Consistency, strconv.FormatInt(old.Tree.N, 10))
		}
		if len(older) > 0 {
			s.Checks = append(s.Checks, "consistency with older checkpoints (tlog.ProveTree, tlog.CheckTree)")
		}
	}

	if cp.Tree.N == 0 { // older checkpoints of an empty log are empty too (checked above)
		for _, old := range older {
			s.Consistency = append(s.Consistency, strconv.FormatInt(old.Tree.N, 10))
		}
	}

	// (6) Defence in depth, not relying on TileHashReader's authentication: rebuild the log
	// from its entries alone with tlog.StoredHashes (as Go's sumdb server does), check every
	// signed root against it, and check every hash tile of every signed size byte for byte
	// against tlog.ReadTileData.
	var store hashStore
	for i, entry := range entries {
		hashes, err := tlog.StoredHashes(int64(i), entry, store)
		if err != nil {
			return fmt.Errorf("rebuild: leaf %d: %w", i, err)
		}
		store = append(store, hashes...)
	}
	for _, c := range append([]checkpoint{cp}, older...) {
		if c.Tree.N == 0 {
			continue
		}
		root, err := tlog.TreeHash(c.Tree.N, store)
		if err != nil {
			return fmt.Errorf("rebuild: tree %d: %w", c.Tree.N, err)
		}
		if root != c.Tree.Hash {
			return fmt.Errorf("rebuild: the entries give root %v for size %d, the checkpoint says %v", root, c.Tree.N, c.Tree.Hash)
		}
		for _, t := range tilesForSize(c.Tree.N) {
			want, err := tlog.ReadTileData(t, store)
			if err != nil {
				return fmt.Errorf("rebuild: %s: %w", c2spPath(t), err)
			}
			got, err := tiles.read(c2spPath(t))
			if err != nil {
				return fmt.Errorf("tile: %w", err)
			}
			if !bytes.Equal(got, want) {
				return fmt.Errorf("rebuild: %s differs from the tile rebuilt from the entries", c2spPath(t))
			}
		}
	}
	s.Checks = append(s.Checks, "log rebuilt from the entries (tlog.StoredHashes): roots and every hash tile (tlog.ReadTileData)")

	s.Tiles = tiles.reads
	s.OK = true
	printJSON(s)
	return nil
}
