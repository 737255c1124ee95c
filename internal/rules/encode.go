package rules

import (
	"encoding/json"
	"math/big"
)

// MarshalJSON writes the input in the format Decode reads, canonically: object keys sorted,
// absent fields left out, decimals exact. Decode(Marshal(in)) calculates exactly as in does.
func (in Input) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"attendees": in.Attendees,
		"first":     in.First,
	}
	if in.Rules != "" {
		m["rules"] = in.Rules
	}
	if in.Mode != "" {
		m["mode"] = in.Mode
	}
	if in.HasDelegatesToElect {
		m["delegates_to_elect"] = in.DelegatesToElect
	}
	if in.Final != nil {
		m["final"] = in.Final
	}
	if in.Delegates != nil {
		m["delegates"] = in.Delegates
	}
	if len(in.Tiebreaks) > 0 {
		m["tiebreaks"] = in.Tiebreaks
	}
	if in.SDERatio != nil {
		m["sde_ratio"] = in.SDERatio.RatString()
	}
	if in.SDE != nil {
		sde := make(map[string]string, len(in.SDE))
		for id, v := range in.SDE {
			sde[id] = decimalString(v)
		}
		m["sde"] = sde
	}
	if in.Candidates != nil {
		m["candidates"] = in.Candidates
	}
	if in.Others != nil {
		m["others"] = in.Others
	}
	if in.Satellite {
		m["satellite"] = true
	}
	if in.Early != nil && in.profile() == NevadaDem2020 {
		m["early"] = in.Early
	}
	return json.Marshal(m)
}

// decimalString writes a terminating decimal exactly ("0.0784313725"); values from ParseDecimal
// always terminate. A value that does not is written with 30 places (never produced by Decode).
func decimalString(r *big.Rat) string {
	x := new(big.Rat).Set(r)
	ten := big.NewRat(10, 1)
	for k := 0; k <= 2*maxDecimalLen; k++ {
		if x.IsInt() {
			return r.FloatString(k)
		}
		x.Mul(x, ten)
	}
	return r.FloatString(30)
}
