package steering_test

import (
	"fmt"
	"net/netip"

	"github.com/flexcp/flexcp/steering"
)

// A join is steered by its token, then by the 5-tuple entry its owner
// installs and announces to the other workers.
func ExampleClassifier_Owner() {
	rs, err := steering.NewRuleset(steering.Config{Workers: 4, SymmetricRSS: true})
	if err != nil {
		panic(err)
	}
	// One classifier per worker; worker 3 owns the connection.
	workers := []*steering.Classifier{steering.NewClassifier(rs), steering.NewClassifier(rs),
		steering.NewClassifier(rs), steering.NewClassifier(rs)}
	pool, _ := steering.NewKeyPool(rs.Tokens(), 3, 16, nil)
	pool.Refill(16)
	k, _ := pool.Next()
	owner, _ := rs.Tokens().TokenOwner(k.Token)
	fmt.Println("key_P's token names core", owner)

	// The join subflow's tuple, as the owner reads it from the join SYN.
	join := steering.TupleFrom(netip.MustParseAddrPort("198.18.2.2:40001"), netip.MustParseAddrPort("198.18.3.2:5201"))
	if !workers[3].Install(join, 3) {
		panic("quota")
	}
	u := steering.Update{Op: steering.UpdateInstall, Core: 3, Tuple: join}
	for w := 0; w < 3; w++ { // in the proxy: through each worker's ring
		workers[w].Apply(u)
	}
	// An ACK from the client on the join subflow, at worker 0.
	ack := []byte{
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, // IPv4, 40 bytes, DF, TCP
		198, 18, 2, 2, 198, 18, 3, 2, // src, dst
		0x9c, 0x41, 0x14, 0x51, // ports 40001 -> 5201
		0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0, // seq, ack, doff 5, ACK
	}
	core, why := workers[0].Owner(ack)
	fmt.Println(core, why)
	// Output:
	// key_P's token names core 3
	// 3 subflow
}
