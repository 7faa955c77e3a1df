package slack

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/witaj/witaj/flows"
)

// Hours are the consultants' working hours, e.g. "Mon-Fri 09:00-17:00" or
// "Mon-Thu 09:00-17:00, Fri 09:00-14:00", in a time zone (Europe/Warsaw
// by default).
type Hours struct {
	spec   string
	loc    *time.Location
	ranges []dayRange
}

type dayRange struct {
	days       [7]bool // by time.Weekday
	start, end int     // minutes after midnight
}

// ParseHours parses a working-hours specification in loc. An empty spec
// means always open.
func ParseHours(spec string, loc *time.Location) (Hours, error) {
	h := Hours{spec: strings.TrimSpace(spec), loc: loc}
	if h.spec == "" {
		return h, nil
	}
	for _, part := range strings.Split(h.spec, ",") {
		fields := strings.Fields(part)
		if len(fields) != 2 {
			return Hours{}, fmt.Errorf("working hours %q: want \"Mon-Fri 09:00-17:00\"", part)
		}
		var r dayRange
		if err := r.parseDays(fields[0]); err != nil {
			return Hours{}, err
		}
		from, to, ok := strings.Cut(fields[1], "-")
		var err1, err2 error
		r.start, err1 = clock(from)
		r.end, err2 = clock(to)
		if !ok || err1 != nil || err2 != nil || r.end <= r.start {
			return Hours{}, fmt.Errorf("working hours %q: want times like 09:00-17:00", part)
		}
		h.ranges = append(h.ranges, r)
	}
	return h, nil
}

func weekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

func (r *dayRange) parseDays(s string) error {
	from, to, isRange := strings.Cut(s, "-")
	a, ok1 := weekday(from)
	b, ok2 := weekday(to)
	if !isRange {
		b, ok2 = a, ok1
	}
	if !ok1 || !ok2 {
		return fmt.Errorf("working hours: unknown days %q (use Mon, Tue, … Sun)", s)
	}
	for d := a; ; d = (d + 1) % 7 {
		r.days[d] = true
		if d == b {
			return nil
		}
	}
}

func clock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

// Schedule returns the hours for showing to users: one range per run of
// consecutive days.
func (h Hours) Schedule() flows.Hours {
	var out flows.Hours
	for _, r := range h.ranges {
		for d := time.Sunday; d <= time.Saturday; d++ {
			// Start a run at a working day whose previous day is off.
			if !r.days[d] || (r.days[(d+6)%7] && !allDays(r.days)) {
				continue
			}
			end := d
			for r.days[(end+1)%7] && (end+1)%7 != d {
				end = (end + 1) % 7
			}
			out = append(out, flows.HoursRange{From: d, To: end, Open: r.start, Close: r.end})
			if allDays(r.days) {
				break
			}
		}
	}
	return out
}

func allDays(days [7]bool) bool {
	for _, on := range days {
		if !on {
			return false
		}
	}
	return true
}

// String is the specification as configured.
func (h Hours) String() string { return h.spec }

// OpenAt reports whether consultants work at t.
func (h Hours) OpenAt(t time.Time) bool {
	if len(h.ranges) == 0 {
		return true
	}
	t = t.In(h.loc)
	min := t.Hour()*60 + t.Minute()
	for _, r := range h.ranges {
		if r.days[t.Weekday()] && min >= r.start && min < r.end {
			return true
		}
	}
	return false
}

// NextOpen returns when consultants are next at work after t (t itself
// when they work now), in the hours' time zone.
func (h Hours) NextOpen(t time.Time) time.Time {
	t = t.In(h.loc)
	if h.OpenAt(t) {
		return t
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.loc)
	for i := 0; i < 8; i++ {
		d := day.AddDate(0, 0, i)
		best := -1
		for _, r := range h.ranges {
			start := d.Add(time.Duration(r.start) * time.Minute)
			if r.days[d.Weekday()] && start.After(t) && (best < 0 || r.start < best) {
				best = r.start
			}
		}
		if best >= 0 {
			return d.Add(time.Duration(best) * time.Minute)
		}
	}
	return t
}
