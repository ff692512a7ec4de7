"""Penetrating supervision: posting feeds -> flow graph -> AML typology detectors -> alerts.

Start with `postings.Posting` (the record), `detectors.DetectorSuite` (the streaming detectors)
and `evaluate.run_evaluation` (planted typologies scored on both rails)."""
