package invoicing

// SetFailAfter makes Run fail right after step, as a crash there would.
func (s *Service) SetFailAfter(step Step) { s.failAfter = step }
