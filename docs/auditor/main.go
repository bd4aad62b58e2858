// Command auditor verifies a Liaison audit export with nothing but the Go
// team's tlog and note packages: no Liaison code is involved, so an auditor
// can read all of it. Usage:
//
//	go run ./docs/auditor -key 'name+hash+base64key' EXPORT_DIR
//
// It checks that the checkpoint is signed by the key the auditor was given
// out of band, that entries.jsonl holds exactly as many lines as the
// checkpoint's tree size, and that the lines hash (RFC 6962) to the
// checkpoint's root. Exit status 0 means the export is intact.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	key := flag.String("key", "", "the log's verifier key (name+hash+base64key), from the operator")
	flag.Parse()
	if *key == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: auditor -key VERIFIER_KEY EXPORT_DIR")
		os.Exit(2)
	}
	n, err := verify(flag.Arg(0), *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAILED:", err)
		os.Exit(1)
	}
	fmt.Printf("OK: %d entries match the signed checkpoint\n", n)
}

func verify(dir, key string) (int64, error) {
	v, err := note.NewVerifier(key)
	if err != nil {
		return 0, err
	}
	signed, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return 0, err
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return 0, fmt.Errorf("checkpoint signature: %v", err)
	}
	// C2SP checkpoint body: origin, tree size, base64 root hash.
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		return 0, errors.New("checkpoint: malformed body")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: tree size: %v", err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return 0, errors.New("checkpoint: root hash")
	}

	f, err := os.Open(filepath.Join(dir, "entries.jsonl"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var hashes []tlog.Hash // every stored hash, in tlog's storage order
	reader := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = hashes[x]
		}
		return out, nil
	})
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var count int64
	for sc.Scan() {
		line := bytes.Clone(sc.Bytes()) // the leaf: the line without its newline
		hs, err := tlog.StoredHashes(count, line, reader)
		if err != nil {
			return 0, err
		}
		hashes = append(hashes, hs...)
		count++
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if count != size {
		return 0, fmt.Errorf("entries.jsonl has %d entries, the checkpoint covers %d", count, size)
	}
	got, err := tlog.TreeHash(size, reader)
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(got[:], root) {
		return 0, fmt.Errorf("the entries hash to %s, the checkpoint says %s", got, base64.StdEncoding.EncodeToString(root))
	}
	return size, nil
}
