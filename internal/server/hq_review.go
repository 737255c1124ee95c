package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"caucus/internal/auth"
	"caucus/internal/hotline"
	"caucus/internal/night"
	"caucus/internal/report"
	"caucus/internal/review"
	"caucus/internal/rules"
	"caucus/internal/store"
	"caucus/web"
)

// maxDecisionBytes bounds a review decision: a whole report and a reason.
const maxDecisionBytes = report.MaxBytes + 8<<10

// maxReasonLen bounds a decision's reason, in bytes.
const maxReasonLen = 2000

// reviewRoutes registers headquarters' review of the election (not of its practice twin, which
// nobody reviews): the queue, one precinct's item, the decisions, the worksheet photos and the
// math of a correction being typed.
func (s *Server) reviewRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/hq/review", s.onMain(s.staffJSON(0, rolesReviewers, s.handleReviewQueue)))
	mux.HandleFunc("GET /api/v1/hq/review/{precinct_id}", s.onMain(s.staffJSON(0, rolesReviewers, s.handleReviewItem)))
	mux.HandleFunc("POST /api/v1/hq/review/{precinct_id}", s.onMain(s.staffJSON(maxDecisionBytes, rolesReview, s.handleDecision)))
	mux.HandleFunc("POST /api/v1/hq/calc/{precinct_id}", s.onMain(s.serveJSON(report.MaxBytes, s.handleStaffCalc)))
	mux.HandleFunc("GET /api/v1/hq/photos/{sha256}", s.onMain(s.handleStaffPhoto))
	assets, err := web.Load()
	if err != nil {
		panic(err) // embedded files: a broken build, caught by the tests
	}
	mux.HandleFunc("GET /hq/review", s.onMain(s.handleReviewPage(assets)))
}

// reviewQueue is GET /api/v1/hq/review.
type reviewQueue struct {
	Items []queueItem `json:"items"`
}

// queueItem is a precinct of the review queue: the night's item and, when operators' copies of
// its worksheet disagree, the hotline's copies and their differences (not in the log: nothing
// of them is counted until a reviewer decides).
type queueItem struct {
	review.Item
	Hotline *hotlineMismatch `json:"hotline,omitempty"`
}

// hotlineMismatch is a precinct's unsettled round of hotline copies.
type hotlineMismatch struct {
	Round       int64                `json:"round"`
	Differences []hotline.Difference `json:"differences"`
	Copies      []hotlineCopyView    `json:"copies"`
}

// hotlineCopyView is one operator's copy as a reviewer sees it.
type hotlineCopyView struct {
	Operator   string          `json:"operator"`
	At         string          `json:"at"`
	VerifiedBy string          `json:"verified_by"`
	Channel    string          `json:"channel"`
	Report     json.RawMessage `json:"report"`
}

func (s *Server) handleReviewQueue(site *Site, _ auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	items, err := site.night.ReviewQueue(r.Context())
	if err != nil {
		return nil, 0, err
	}
	q := reviewQueue{Items: make([]queueItem, len(items))}
	at := make(map[string]int, len(items))
	for i, it := range items {
		q.Items[i].Item = it
		at[it.PrecinctID] = i
	}
	contests, err := s.hotlineContests(r.Context(), site)
	if err != nil {
		return nil, 0, err
	}
	for _, c := range contests {
		i, ok := at[c.PrecinctID]
		if !ok { // counted nothing new, or nothing at all: in the queue for the copies alone
			it, _, err := site.night.ReviewItem(r.Context(), c.PrecinctID)
			if err != nil {
				return nil, 0, err
			}
			i = len(q.Items)
			q.Items = append(q.Items, queueItem{Item: it})
		}
		q.Items[i].Reasons = append(q.Items[i].Reasons, review.HotlineMismatch)
		q.Items[i].Hotline = mismatchView(c)
	}
	return q, http.StatusOK, nil
}

// hotlineContests is every unsettled hotline mismatch of the election; none on a server
// without the hotline, or for the practice twin (whose reports nobody keys twice).
func (s *Server) hotlineContests(ctx context.Context, site *Site) ([]hotline.Contest, error) {
	if s.hotline == nil || site.practice {
		return nil, nil
	}
	cs, err := s.hotline.Contested(ctx)
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	return cs, nil
}

func mismatchView(c hotline.Contest) *hotlineMismatch {
	m := &hotlineMismatch{Round: c.Round, Differences: c.Differences, Copies: make([]hotlineCopyView, len(c.Copies))}
	for i, cp := range c.Copies {
		m.Copies[i] = hotlineCopyView{Operator: cp.Operator, At: report.FormatTime(cp.At), VerifiedBy: cp.VerifiedBy,
			Channel: cp.Channel, Report: json.RawMessage(cp.Report)}
	}
	return m
}

// handleReviewItem is one precinct as the queue shows it, in the queue or not (its history
// after a decision, a precinct to correct that nothing flagged), with its hotline mismatch.
func (s *Server) handleReviewItem(site *Site, _ auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	id := r.PathValue("precinct_id")
	it, ok, err := site.night.ReviewItem(r.Context(), id)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, errorf(http.StatusNotFound, "not_found", "precinct %q is not in this election", id)
	}
	q := queueItem{Item: it}
	contests, err := s.hotlineContests(r.Context(), site)
	if err != nil {
		return nil, 0, err
	}
	for _, c := range contests {
		if c.PrecinctID == id {
			q.Reasons = append(q.Reasons, review.HotlineMismatch)
			q.Hotline = mismatchView(c)
		}
	}
	return q, http.StatusOK, nil
}

// decisionRequest is POST /api/v1/hq/review/{precinct_id}. LastIndex, which a page adds, is the
// precinct's latest log index as the reviewer saw it (review.Item.LastIndex): the decision is
// refused with 409 when another entry arrived since.
type decisionRequest struct {
	Action    string          `json:"action"`
	LogIndex  *int64          `json:"log_index"`
	Report    json.RawMessage `json:"report"`
	Reason    string          `json:"reason"`
	LastIndex *int64          `json:"last_index"`
}

// decisionAnswer is a stored decision: its log entry, and the precinct's status after it.
type decisionAnswer struct {
	PrecinctID string       `json:"precinct_id"`
	LogIndex   int64        `json:"log_index"`
	LeafHash   string       `json:"leaf_hash"`
	Status     store.Status `json:"status"`
}

// handleDecision appends a reviewer's decision: "accept" makes the entry log_index names
// counted (a review entry), "correct" appends report as a correction that counts. 403 when the
// reviewer submitted an entry the decision is about (separation of duties), 409 when the
// precinct changed since last_index or is in a certified scope, 422 for a refused decision (with the checks of a
// corrected report with hard errors).
func (s *Server) handleDecision(site *Site, sess auth.Session, _ http.Header, r *http.Request) (any, int, error) {
	body, err := readBody(r, "decision", maxDecisionBytes)
	if err != nil {
		return nil, 0, err
	}
	var req decisionRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, 0, errorf(http.StatusBadRequest, "bad_decision",
			"send {action, log_index, report, reason} as one JSON object: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	d := night.Decision{PrecinctID: r.PathValue("precinct_id"), Author: sess.Username, Reason: strings.TrimSpace(req.Reason),
		LastIndex: req.LastIndex}
	switch {
	case d.Reason == "":
		return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_decision", "reason: say why, in words the audit will read")
	case len(d.Reason) > maxReasonLen:
		return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_decision", "reason: at most %d bytes", maxReasonLen)
	}
	switch req.Action {
	case "accept":
		if req.LogIndex == nil {
			return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_decision", "log_index: name the entry to accept")
		}
		if len(req.Report) > 0 {
			return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_decision", "report: an accept names an entry; send a report with \"correct\"")
		}
		d.Status, d.Counts = store.StatusAccepted, req.LogIndex
	case "correct":
		if req.LogIndex != nil {
			return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_decision", "log_index: a correction counts its own report; name no entry")
		}
		if len(req.Report) == 0 || string(req.Report) == "null" {
			return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_decision", "report: a correction is a whole report")
		}
		rep, err := report.Decode(req.Report)
		var se *report.SyntaxError
		var ie *report.InvalidError
		switch {
		case errors.As(err, &se):
			return nil, 0, errorf(http.StatusBadRequest, "bad_report", "report: %s", se.Msg)
		case errors.As(err, &ie):
			return map[string]any{"error": "report: " + ie.Check.Message, "checks": []rules.Check{ie.Check}}, http.StatusUnprocessableEntity, nil
		case err != nil:
			return nil, 0, err
		}
		d.Correction = &rep
	default:
		return nil, 0, errorf(http.StatusUnprocessableEntity, "bad_decision", "action: %q is not \"accept\" or \"correct\"", req.Action)
	}
	e, err := site.night.Decide(r.Context(), d)
	if v, status, err := refusal(err); status != 0 || err != nil {
		return v, status, err
	}
	// The decision settles the precinct's hotline mismatch, if it has one: its copies leave the
	// queue, and the next keying opens a new round. The decision is stored: a failure here is
	// logged, and the mismatch stays listed beside the decided precinct until a retry.
	contests, err := s.hotlineContests(r.Context(), site)
	if err == nil {
		for _, c := range contests {
			if c.PrecinctID == d.PrecinctID {
				reportID := ""
				if d.Correction != nil {
					reportID = d.Correction.ReportID
				}
				err = errors.Join(err, s.hotline.SettleByReview(r.Context(), c.PrecinctID, c.Round, sess.Username, reportID, e.Index))
			}
		}
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "hotline round not settled after a decision", slog.String("precinct_id", d.PrecinctID),
			slog.Int64("log_index", e.Index), slog.Any("err", err))
	}
	return decisionAnswer{PrecinctID: d.PrecinctID, LogIndex: e.Index, LeafHash: report.HexHash(e.LeafHash), Status: e.Status}, http.StatusCreated, nil
}

// refusalMessage is a refusal's message for the reviewer.
func refusalMessage(err error) string {
	var re *night.RefusedError
	if errors.As(err, &re) {
		return re.Message
	}
	return err.Error()
}

// handleStaffCalc is the math of a correction as a reviewer types it: the answer of POST
// /api/v1/calc (rules.CalcJSON of the typed fields and the precinct's facts) for any precinct,
// to a reviewer. It changes nothing, so it writes no audit row.
func (s *Server) handleStaffCalc(site *Site, _ http.Header, r *http.Request) (any, int, error) {
	if _, err := s.staffSession(site, r, rolesReview); err != nil {
		return nil, 0, err
	}
	body, err := readBody(r, "calc input", report.MaxBytes)
	if err != nil {
		return nil, 0, err
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(body, &got); err != nil || got == nil {
		return nil, 0, errorf(http.StatusBadRequest, "bad_calc", "send the calc input as one JSON object")
	}
	in, err := site.calcInput(r.PathValue("precinct_id"), got)
	if err != nil {
		return nil, 0, err
	}
	return rules.CalcJSON(in, ""), http.StatusOK, nil
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// handleStaffPhoto serves a stored worksheet photo to staff only (never public: a worksheet
// may show names). The bytes are the server's own re-encoding (handlePhoto), served as stored,
// private and cached by the browser alone: a photo never changes under its hash.
func (s *Server) handleStaffPhoto(site *Site, w http.ResponseWriter, r *http.Request) {
	if _, err := s.staffSession(site, r, rolesStaff); err != nil {
		s.writeError(w, r, err)
		return
	}
	sum := r.PathValue("sha256")
	if !sha256Hex.MatchString(sum) {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no photo %q: name it by its SHA-256 in lowercase hex", sum))
		return
	}
	p, err := site.night.Photo(r.Context(), sum)
	if errors.Is(err, store.ErrNotFound) {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no photo %s is stored", sum))
		return
	} else if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", p.ContentType)
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	h.Set("Content-Disposition", "inline")
	w.Write(p.Data)
}
