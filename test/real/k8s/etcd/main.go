// etcd for the real-server tests: the etcd server's own entry point, at the
// version k8s.io/kubernetes pins (see ../go.mod).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
