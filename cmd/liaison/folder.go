package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/liaison-gateway/liaison/gateway/sample"
	"github.com/liaison-gateway/liaison/internal/atomicfile"
)

// A folder a command writes for someone else to read (an audit export)
// appears whole or not at all: its files are written into a temporary
// folder beside it, in the same parent so that the rename is one step on
// one file system, each file synced and then the folder, and the
// temporary folder is renamed into place only once everything is written.
// A failure on the way (a write refused, a cancelled context, a verifier
// that refuses what was written) removes the temporary folder: nothing is
// left where the folder was to be, and a folder already there is left as
// it was. A crash leaves at most a hidden .NAME.*.tmp folder in the
// parent, never a part of NAME.
//
// The project's atomic writers of one file (internal/atomicfile, which
// gateway/audit, gateway/witness and pseudonym use too) replace or link a
// file in a live directory; this is their counterpart for a folder of
// files, and [replaceFile] below is the command's use of them for one
// file.
// [replaceFiles] places a set of files in a folder that may hold others
// (a development PKI written over an earlier one).

// freeFolder returns dir ready for [placeFolder]: cleaned (a trailing /
// would put the temporary folder inside it) and, if it is a symbolic
// link, the folder it names. A folder that is not empty, and anything that
// is not a folder, is refused: a new folder is never written over nor
// into another, such as an earlier export. An empty folder is taken, and
// replaced by the new one.
func freeFolder(dir string) (string, error) {
	dir = filepath.Clean(dir)
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if dir, err = filepath.EvalSymlinks(dir); err != nil {
			return "", err
		}
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return dir, nil
	}
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a folder: it is left as it is; name a new or empty folder", dir)
	}
	// The current folder would be replaced by another one of its name,
	// and a shell in it left in a folder that is no longer there.
	if cwd, err := os.Stat("."); err == nil && os.SameFile(fi, cwd) {
		return "", fmt.Errorf("%s is the current folder: name a new or empty folder beside it or below it", dir)
	}
	ents, err := os.ReadDir(dir)
	switch {
	case err != nil:
		return "", err
	case len(ents) > 0:
		return "", fmt.Errorf("%s is not empty (an earlier export?): it is left as it is; name a new or empty folder", dir)
	}
	return dir, nil
}

// placeFolder makes dir, which [freeFolder] returned, hold what fill
// writes into the folder it is given, or leaves nothing: see above. fill
// writes its files with [writeSynced]. If dir became a folder that is not
// empty meanwhile (another export into it), that folder is left as it is
// and the error says so.
func placeFolder(ctx context.Context, dir string, fill func(tmp string) error) (err error) {
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	// The parent folders are made as os.MkdirAll made them, and removed
	// again on a failure.
	var made []string
	for p := filepath.Clean(parent); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) || filepath.Dir(p) == p {
			break
		}
		made = append(made, p)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("make the folder %s: %v", parent, err)
	}
	defer func() {
		if err != nil {
			for _, p := range made {
				os.Remove(p) // deepest first; an empty folder only
			}
		}
	}()
	tmp, err := newTempFolder(parent, base)
	if err != nil {
		return fmt.Errorf("make a temporary folder beside %s: %v", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := syncPath(tmp); err != nil {
		return fmt.Errorf("sync %s: %v", tmp, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// An empty folder given is replaced: os.Rename does not rename over a
	// folder. os.Remove removes an empty folder only, so a folder filled
	// meanwhile stays as it is, and so does one filled between the two
	// steps (rename refuses a folder that is not empty).
	if fi, err := os.Lstat(dir); err == nil && fi.IsDir() {
		if err := os.Remove(dir); err != nil {
			if ents, _ := os.ReadDir(dir); len(ents) > 0 {
				return fmt.Errorf("%s is no longer empty (another export into it?): it is left as it is", dir)
			}
			return fmt.Errorf("replace the empty folder %s: %v", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Lstat(dir); serr == nil {
			return fmt.Errorf("%s appeared meanwhile (another export into it?): it is left as it is", dir)
		}
		return err
	}
	syncPath(parent) // best effort: the folder is whole either way, and not every system syncs a directory
	return nil
}

// replaceFile puts data at path whole or not at all, for a file a command
// writes over one a user may still need (a policy bundle, its public key,
// an exercise report), with atomicfile.Replace: data goes into a temporary
// file beside path (a hidden .NAME.*.tmp in the same folder, so that the
// rename is one step on one file system) with mode perm, which is synced
// and renamed over path, and then the folder is synced. A failure on the
// way (a full disk, a file size limit, a folder that refuses new files, a
// path that is a folder) removes the temporary file and leaves a file
// already at path as it was; a crash leaves at most the temporary file,
// never a part of path. A path that is a symbolic link is replaced where
// it points, as os.WriteFile writes through it. It is the one-file
// counterpart of [placeFolder].
func replaceFile(path string, data []byte, perm fs.FileMode) (err error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if path, err = filepath.EvalSymlinks(path); err != nil {
			return err
		}
	}
	// The folder's sync is best effort, as placeFolder's: the file is
	// whole either way.
	err = atomicfile.Replace(path, data, perm)
	if err != nil && !errors.Is(err, atomicfile.ErrDirNotSynced) {
		return fmt.Errorf("write %s: %v", path, err)
	}
	return nil
}

// writeTemp writes data, with mode perm, to a new temporary file beside
// path (a hidden .NAME.*.tmp in its folder: atomicfile.WriteTemp) and
// syncs it, for [replaceFiles] to rename over path. It returns the
// temporary file's name; on a failure it leaves none.
func writeTemp(path string, data []byte, perm fs.FileMode) (tmp string, err error) {
	tmp, err = atomicfile.WriteTemp(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("write %s: %v", path, err)
	}
	return tmp, nil
}

// newTempFolder makes a new hidden folder in parent for a folder named
// base, with mode 0755 less the umask, as os.MkdirAll gave (os.MkdirTemp
// gives 0700).
func newTempFolder(parent, base string) (string, error) {
	for range 100 {
		tmp := filepath.Join(parent, fmt.Sprintf(".%s.%s.tmp", base, rand.Text()[:10]))
		err := os.Mkdir(tmp, 0o755)
		if err == nil {
			return tmp, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", errors.New("no unused temporary name")
}

// writeSynced creates path, writes it with write and syncs it. write's
// writes go through a bufio.Writer, which keeps its first error: a write
// refused (a full disk, a file size limit) is this function's error.
func writeSynced(path string, write func(w *bufio.Writer)) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriter(f)
	write(w)
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

// syncPath syncs the file or folder at path.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// replaceFiles puts files, named relative to dir, in dir whole or not at
// all, for a set of files that only work together (a development PKI: a
// CA and the certificates it signed) written over an earlier set a user
// may still be using. Files in dir that are not in the set are left as
// they are: unlike [placeFolder], dir may be one the user keeps other
// files in, which a new folder renamed into its place would lose.
//
// Every file is first written in full beside where it goes (a hidden
// .NAME.*.tmp in its folder, with its mode, synced), making the folders
// it needs as os.MkdirAll would (mode 0700: the set holds private keys).
// A failure while writing (a full disk, a file size limit, a folder that
// refuses new files, a cancelled context) removes the temporary files and
// the folders made, and the earlier set is left as it was. Only then are
// the temporary files renamed over the earlier ones, in the order given,
// and the folders synced; should a rename be refused (a folder where a
// file goes), the files already replaced are put back from copies read
// before the first rename, and the error says so. A path that is a
// symbolic link is replaced where it points, as [replaceFile] does.
func replaceFiles(ctx context.Context, dir string, files []sample.File) (err error) {
	type staged struct {
		path, tmp string
		old       []byte // the earlier file, to put back
		oldMode   fs.FileMode
		had       bool // there was a file at path
		placed    bool // tmp was renamed to path
	}
	var (
		made []string // folders made, to remove on a failure
		set  []*staged
	)
	defer func() {
		if err == nil {
			return
		}
		for _, s := range set {
			if !s.placed {
				os.Remove(s.tmp)
			}
		}
		slices.SortFunc(made, func(a, b string) int { return len(b) - len(a) }) // deepest first
		for _, p := range made {
			os.Remove(p) // an empty folder only
		}
	}()
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		folder := filepath.Dir(path)
		for p := folder; ; p = filepath.Dir(p) {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) || filepath.Dir(p) == p {
				break
			}
			made = append(made, p)
		}
		if err := os.MkdirAll(folder, 0o700); err != nil {
			return fmt.Errorf("make the folder %s: %v", folder, err)
		}
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			if path, err = filepath.EvalSymlinks(path); err != nil {
				return err
			}
		}
		s := &staged{path: path}
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			if s.old, err = os.ReadFile(path); err != nil {
				return fmt.Errorf("read the earlier %s: %v", path, err)
			}
			s.had, s.oldMode = true, fi.Mode().Perm()
		}
		if s.tmp, err = writeTemp(path, f.Data, f.Mode); err != nil {
			return err
		}
		set = append(set, s)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, s := range set {
		if err := os.Rename(s.tmp, s.path); err != nil {
			err = fmt.Errorf("write %s: %v", s.path, err)
			for _, p := range set {
				if !p.placed {
					continue
				}
				var rerr error
				if p.had {
					rerr = replaceFile(p.path, p.old, p.oldMode)
				} else {
					rerr = os.Remove(p.path)
				}
				if rerr != nil {
					return fmt.Errorf("%v; and %s could not be put back as it was (%v): the files in %s are a mix of the earlier set and the new one", err, p.path, rerr, dir)
				}
				p.placed = false
			}
			return fmt.Errorf("%v: the files already replaced were put back as they were", err)
		}
		s.placed = true
	}
	synced := map[string]bool{}
	for _, s := range set {
		if d := filepath.Dir(s.path); !synced[d] {
			syncPath(d) // best effort, as replaceFile's
			synced[d] = true
		}
	}
	return nil
}
