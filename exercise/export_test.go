package exercise

// SetInboxPage makes readInbox ask for n items at a time, until the
// function it returns is called.
func SetInboxPage(n int) (restore func()) {
	old := inboxPage
	inboxPage = n
	return func() { inboxPage = old }
}
