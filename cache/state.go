package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// state is what .tubo/cache/NAME.json holds.
type state struct {
	Version int `json:"version"`
	// Stages are the records of the last successful run of each stage
	// with outputs, by node ID.
	Stages map[string]*stageRecord `json:"stages"`
	// Files remembers content hashes by what the file looked like, so a
	// file that has not changed is not read again.
	Files map[string]*fileStat `json:"files"`
}

const stateVersion = 1

// stageRecord is one stage's last successful run.
type stageRecord struct {
	Key     string            `json:"key"`
	Outputs map[string]string `json:"outputs"` // path → content hash
}

// fileStat is a file's content hash and what the file looked like when
// it was hashed.
type fileStat struct {
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	CtimeNs int64  `json:"ctime_ns"`
	Ino     uint64 `json:"ino"`
	Hash    string `json:"hash"`
}

func loadState(path string) (*state, error) {
	st := &state{Version: stateVersion, Stages: map[string]*stageRecord{}, Files: map[string]*fileStat{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	var got state
	if err := json.Unmarshal(b, &got); err != nil || got.Version != stateVersion {
		// A state tubo cannot read only costs a full run.
		return st, nil
	}
	if got.Stages != nil {
		st.Stages = got.Stages
	}
	if got.Files != nil {
		st.Files = got.Files
	}
	return st, nil
}

// save writes the state atomically: a reader (or a run that dies midway)
// sees the old file or the new one, never half of one.
func (st *state) save(path string) error {
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// fresh says whether a stage's record holds for key and its outputs now.
func (st *state) fresh(id, key string, outs []string, h *hasher) bool {
	rec := st.Stages[id]
	if rec == nil || rec.Key != key || len(rec.Outputs) != len(outs) {
		return false
	}
	for _, p := range outs {
		want, ok := rec.Outputs[p]
		if !ok {
			return false
		}
		got, err := h.hash(p)
		if err != nil || got != want {
			return false
		}
	}
	return true
}

// racyWindow: a file modified this recently may change again within the
// same timestamp tick, unseen by a stat comparison; its hash is not kept.
const racyWindow = 2 * time.Second

// hasher hashes file contents, remembering them in the state.
type hasher struct {
	st   *state
	memo map[string]string // this run's answers
}

// hash is the sha256 of a file's content, or of a directory's tree.
func (h *hasher) hash(path string) (string, error) {
	if v, ok := h.memo[path]; ok {
		return v, nil
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return "", &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	var sum string
	var err error
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		sum, err = h.tree(path)
	} else {
		fs := &fileStat{Size: st.Size, MtimeNs: st.Mtim.Nano(), CtimeNs: st.Ctim.Nano(), Ino: st.Ino}
		if old := h.st.Files[path]; old != nil && old.Size == fs.Size && old.MtimeNs == fs.MtimeNs && old.CtimeNs == fs.CtimeNs && old.Ino == fs.Ino {
			sum = old.Hash
		} else {
			if sum, err = hashFile(path); err == nil {
				fs.Hash = sum
				if time.Since(time.Unix(0, max(fs.MtimeNs, fs.CtimeNs))) > racyWindow {
					h.st.Files[path] = fs
				} else {
					delete(h.st.Files, path)
				}
			}
		}
	}
	if err != nil {
		return "", err
	}
	if h.memo == nil {
		h.memo = map[string]string{}
	}
	h.memo[path] = sum
	return sum, nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := sha256.New()
	if _, err := io.Copy(s, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(s.Sum(nil)), nil
}

// tree hashes a directory: the names, kinds and hashes of what it holds.
func (h *hasher) tree(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	s := sha256.New()
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		var sub string
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			sub = "link " + t
		case e.IsDir() || e.Type().IsRegular():
			if sub, err = h.hash(p); err != nil {
				return "", err
			}
		default:
			sub = "special"
		}
		fmt.Fprintf(s, "%s\x00%s\x00", e.Name(), sub)
	}
	return "tree:" + hex.EncodeToString(s.Sum(nil)), nil
}
