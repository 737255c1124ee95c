package server

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"caucus/internal/tlog/c2sp"
)

// Cache lifetimes of the log's documents (C2SP tlog-tiles): a full tile never changes, so caches
// keep it forever; a partial tile and the checkpoint are replaced as the log grows.
const (
	fullTileCacheControl    = "public, max-age=31536000, immutable"
	partialTileCacheControl = "public, max-age=1"
	checkpointCacheControl  = "no-cache"
)

// routeLog registers the public log of a site: its checkpoint, tiles and entry bundles, inclusion
// proofs, and the election definition a verifier recomputes with.
func (s *Server) routeLog(mux *http.ServeMux, site *Site) {
	p := site.prefix()
	mux.HandleFunc("GET "+p+"/log/checkpoint", s.onSite(site, s.handleCheckpoint))
	mux.HandleFunc("GET "+p+"/log/tile/{path...}", s.onSite(site, s.handleTile))
	mux.HandleFunc("GET "+p+"/log/proof", s.onSite(site, s.serveJSON(0, s.handleProof)))
	mux.HandleFunc("GET "+p+"/api/v1/election", s.onSite(site, s.serveJSON(0, s.handleElection)))
}

func (s *Server) handleCheckpoint(site *Site, w http.ResponseWriter, r *http.Request) {
	signed, _ := site.night.Checkpoint()
	if signed == nil {
		s.writeError(w, r, busy("no checkpoint is signed yet"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", checkpointCacheControl)
	w.Write(signed)
}

func (s *Server) handleTile(site *Site, w http.ResponseWriter, r *http.Request) {
	t, err := c2sp.ParseTilePath("tile/" + r.PathValue("path"))
	if err != nil {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "%v", err))
		return
	}
	var data []byte
	ok := false
	if t.L == c2sp.EntriesLevel {
		data, ok, err = site.night.EntryBundle(r.Context(), t)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	} else {
		data, ok = site.night.HashTile(t)
	}
	if !ok {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "the log has no tile %s yet", c2sp.TilePath(t)))
		return
	}
	cc := fullTileCacheControl
	if t.W < c2sp.TileWidth {
		cc = partialTileCacheControl
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", cc)
	w.Write(data)
}

// proofJSON is GET /log/proof?index=N: the inclusion proof of entry N in the latest checkpoint.
type proofJSON struct {
	Index    int64    `json:"index"`
	TreeSize int64    `json:"tree_size"`
	RootHash string   `json:"root_hash"`
	LeafHash string   `json:"leaf_hash"`
	Proof    []string `json:"proof"`
}

func (s *Server) handleProof(site *Site, h http.Header, r *http.Request) (any, int, error) {
	index, err := strconv.ParseInt(r.URL.Query().Get("index"), 10, 64)
	_, head := site.night.Checkpoint()
	if err != nil || index < 0 || index >= head.N {
		return nil, 0, errorf(http.StatusNotFound, "not_found", "index must be an entry of the latest checkpoint (size %d)", head.N)
	}
	proof, leaf, err := site.night.Prove(index, head.N)
	if err != nil {
		return nil, 0, err
	}
	out := proofJSON{Index: index, TreeSize: head.N, RootHash: b64(head.Hash), LeafHash: b64(leaf), Proof: []string{}}
	for _, h := range proof {
		out.Proof = append(out.Proof, b64(h))
	}
	h.Set("Cache-Control", checkpointCacheControl)
	return out, http.StatusOK, nil
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// electionJSON is GET /api/v1/election: the definition's three files, as the election folder
// holds them (spec/interfaces.md "Election definition"), so that a verifier recomputes with the
// same delegates and ratios.
type electionJSON struct {
	ElectionID string            `json:"election_id"`
	Files      map[string]string `json:"files"`
}

func (s *Server) handleElection(site *Site, h http.Header, _ *http.Request) (any, int, error) {
	files := map[string]string{}
	for name, b := range site.def.Marshal() {
		files[name] = string(b)
	}
	if len(files) == 0 {
		return nil, 0, errors.New("election definition has no files")
	}
	h.Set("Cache-Control", resultsCacheControl)
	return electionJSON{ElectionID: site.def.Election().ID, Files: files}, http.StatusOK, nil
}
