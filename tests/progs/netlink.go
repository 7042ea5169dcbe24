// netlink: the program's netlink port id.  The kernel gives a netlink
// socket its process's pid as port id (net/netlink/af_netlink.c
// netlink_autobind); getsockname and every reply's nlmsg_pid carry it,
// and Go's syscall.NetlinkRIB (net.Interfaces) checks that they agree.
// Under gorr run the program's pid is virtual (1000), so its port id
// must be too.
package main

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

func main() {
	ifs, err := net.Interfaces()
	fmt.Println("interfaces:", len(ifs) > 0, err)
	s, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW, syscall.NETLINK_ROUTE)
	if err != nil {
		panic(err)
	}
	if err := syscall.Bind(s, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		panic(err)
	}
	sa, err := syscall.Getsockname(s)
	if err != nil {
		panic(err)
	}
	fmt.Println("port is my pid:", sa.(*syscall.SockaddrNetlink).Pid == uint32(os.Getpid()))
}
