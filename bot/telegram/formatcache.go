package telegram

import "sync"

// formatCacheSize bounds the cache: the shipped FAQ has about 45 topics ×
// 4 languages × a few facets, and a reload brings a new knowledge base
// version whose keys replace the old ones.
const formatCacheSize = 4096

// formatCache keeps formatted parts by bot.Message.Same. It is emptied
// when full rather than evicting one by one: that happens only after
// several FAQ reloads, and refilling costs one format per answer.
type formatCache struct {
	mu    sync.RWMutex
	parts map[string][]Part
}

// get returns the parts under key, formatting them with format on a
// miss. The parts are shared: callers must not modify them.
func (c *formatCache) get(key string, format func() []Part) []Part {
	c.mu.RLock()
	p, ok := c.parts[key]
	c.mu.RUnlock()
	if ok {
		return p
	}
	p = format()
	c.mu.Lock()
	if c.parts == nil || len(c.parts) >= formatCacheSize {
		c.parts = make(map[string][]Part)
	}
	c.parts[key] = p
	c.mu.Unlock()
	return p
}
