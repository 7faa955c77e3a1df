package bot

// ChatTurns returns how many of the service's updates of chat hold the
// chat's turn or wait for it (chatLocks): a test that needs updates to
// reach the service in a known order starts each once the one before is
// counted.
func (s *Service) ChatTurns(chat ChatID) int {
	s.chats.mu.Lock()
	defer s.chats.mu.Unlock()
	if c := s.chats.m[chat]; c != nil {
		return 1 + len(c.waiting) // the holder and the waiting
	}
	return 0
}
