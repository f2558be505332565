package translate

import "github.com/flexcp/flexcp/dtree"

type (
	dtreeClient = dtree.ClientMap
	dtreeProxy  = dtree.ProxyMap
)
