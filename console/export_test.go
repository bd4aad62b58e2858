package console

// SetNoticesPage makes the notices page ask for n notices a call, so
// that a test reads on past a full page with a few notices; it returns a
// function that puts the gateway's page size back.
func SetNoticesPage(n int) (restore func()) {
	old := noticesPage
	noticesPage = n
	return func() { noticesPage = old }
}

// NoticeReason is noticeReason, the words the access report gives for a
// notice's reason code.
func NoticeReason(code string) string { return noticeReason(code) }
