package devserver

import (
	"sync"
	"time"

	"playdoc/site"
)

// DefaultWarmDelay is how long the snippets' edits must settle before
// their programs are pre-built.
const DefaultWarmDelay = time.Second

// Rewarmer pre-builds the runnable snippets that builds changed, once the
// edits settle: an author who saves every few seconds while writing a
// program would otherwise queue a compilation of every intermediate
// version ahead of the readers' runs.
type Rewarmer struct {
	delay time.Duration
	warm  func(codes []string)

	mu      sync.Mutex
	pending map[string]string // "file#name" → latest code
	order   []string          // keys of pending, first change first
	timer   *time.Timer
	stopped bool
}

// NewRewarmer returns a Rewarmer that calls warm (which must not block
// for long: the playground's Warm builds in the background) with the
// latest code of each changed snippet, delay after the last change.
func NewRewarmer(delay time.Duration, warm func(codes []string)) *Rewarmer {
	if delay <= 0 {
		delay = DefaultWarmDelay
	}
	return &Rewarmer{delay: delay, warm: warm, pending: map[string]string{}}
}

// OnBuild is a Config.OnBuild hook. The first build is skipped: the
// playground pre-builds the whole content at start.
func (r *Rewarmer) OnBuild(old, cur *site.Site) {
	if old == nil {
		return
	}
	changed := newSnippets(old, cur)
	if len(changed) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	for _, sn := range changed {
		key := sn.File + "#" + sn.Name
		if _, ok := r.pending[key]; !ok {
			r.order = append(r.order, key)
		}
		r.pending[key] = sn.Code
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.AfterFunc(r.delay, r.flush)
}

// flush hands the pending snippets to warm.
func (r *Rewarmer) flush() {
	r.mu.Lock()
	if r.stopped || len(r.order) == 0 {
		r.mu.Unlock()
		return
	}
	codes := make([]string, 0, len(r.order))
	for _, k := range r.order {
		codes = append(codes, r.pending[k])
	}
	clear(r.pending)
	r.order = nil
	r.mu.Unlock()
	r.warm(codes)
}

// Stop drops what is pending and ignores later builds.
func (r *Rewarmer) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.timer != nil {
		r.timer.Stop()
	}
}
