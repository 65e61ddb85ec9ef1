package output

// Kill leaves s as a run killed outright does: its files closed by the
// system (the lock let go), nothing abandoned, cut back or removed.
func Kill(s *Segments) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
	s.unlock()
}
