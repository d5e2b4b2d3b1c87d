package job_test

import (
	"errors"

	"github.com/hbackup/hbackup/job"
)

func asHookError(err error, target **job.HookError) bool { return errors.As(err, target) }
