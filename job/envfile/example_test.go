package envfile_test

import (
	"fmt"
	"strings"

	"github.com/hbackup/hbackup/job/envfile"
)

func ExampleParse() {
	vars, err := envfile.Parse(strings.NewReader(`
# credentials for repositories.b2
export B2_ACCOUNT_ID=0012ab
B2_ACCOUNT_KEY="K001secret"
`), "/etc/hbackup/b2.env")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range vars {
		fmt.Println(v)
	}
	// Output:
	// B2_ACCOUNT_ID=0012ab
	// B2_ACCOUNT_KEY=K001secret
}
