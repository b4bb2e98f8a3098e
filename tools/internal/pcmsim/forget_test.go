package pcmsim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestForgetReportsKeepsStatistics(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token("bank_a").AccessToken
	e.postPrivate(tok, clientReport(fapi1), clientReport(fapi2))
	require.Len(t, e.srv.Reports(), 2)

	e.srv.ForgetReports()
	require.Empty(t, e.srv.Reports())
	st := e.srv.Stats()
	require.Equal(t, 2, st.ItemsReceived)
	require.Equal(t, 2, st.ItemsAccepted)

	// The token stays valid and new reports are stored again.
	e.postPrivate(tok, clientReport(fapi1))
	require.Len(t, e.srv.Reports(), 1)
	require.Equal(t, 3, e.srv.Stats().ItemsAccepted)
}
