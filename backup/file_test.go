package backup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A temporary file a killed run left is removed by the next run; one a
// running backup holds is not.
func TestCreateTempRemovesOnlyAbandonedFiles(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "b.rdb")
	abandoned := filepath.Join(filepath.Dir(dest), tempPrefix(dest)+"dead")
	require.NoError(t, os.WriteFile(abandoned, []byte("half"), 0o600))
	running, err := createTemp(dest)
	require.NoError(t, err)
	defer running.Close()
	assert.NoFileExists(t, abandoned)

	second, err := createTemp(dest)
	require.NoError(t, err)
	defer second.Close()
	assert.FileExists(t, running.Name(), "a running backup's file is kept")
	assert.NotEqual(t, running.Name(), second.Name())

	require.NoError(t, commit(second, dest))
	assert.FileExists(t, dest)
	assert.NoFileExists(t, second.Name())
}
