"""People and work: users, exam, dispatch queue, conventions, submissions, pricing."""
